import pytest
import torch
import torch.nn.functional as F

from aigc_course.checkpoint import load_checkpoint, pretrained_path, save_checkpoint
from aigc_course.metrics.image import accuracy, train_classifier
from aigc_course.models.classifier import ClassifierConfig, MNISTClassifier


def test_shapes_and_input_check():
    m = MNISTClassifier(ClassifierConfig.tiny())
    x = torch.rand(3, 1, 28, 28)
    assert m(x).shape == (3, 10) and m.features(x).shape == (3, 16)
    with pytest.raises(ValueError, match="28"):
        m(torch.rand(3, 1, 32, 32))


def test_overfits_one_batch():
    torch.manual_seed(0)
    m = MNISTClassifier(ClassifierConfig.tiny())
    x, y = torch.rand(20, 1, 28, 28), torch.arange(20) % 10
    opt = torch.optim.Adam(m.parameters(), lr=1e-2)
    first = F.cross_entropy(m(x), y).item()
    for _ in range(60):
        loss = F.cross_entropy(m(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < first / 5


def test_train_classifier_learns_a_separable_toy_and_round_trips(tmp_path):
    torch.manual_seed(0)
    y = torch.arange(200) % 10
    x = torch.zeros(200, 1, 28, 28)
    for k in range(10):  # class k: a bright bar in row block k
        x[y == k, 0, 2 * k + 3 : 2 * k + 6, 4:24] = 1.0
    x = (x + 0.1 * torch.rand_like(x)).clamp(0, 1)
    m = MNISTClassifier(ClassifierConfig.tiny())
    train_classifier(m, x, y, epochs=8, batch_size=50, lr=1e-2, shift=0)
    assert accuracy(m, x, y) > 0.9
    save_checkpoint(tmp_path / "c", m.state_dict(), {"config": m.config.to_dict()})
    state, meta = load_checkpoint(tmp_path / "c")
    m2 = MNISTClassifier(ClassifierConfig(**meta["config"])).eval()
    m2.load_state_dict(state)
    torch.testing.assert_close(m2(x[:5]), m.eval()(x[:5]))


def test_committed_classifier_is_accurate():
    meta = load_checkpoint(pretrained_path("mnist_classifier"))[1]
    assert meta["metrics"]["test_accuracy"] >= 0.95 and meta["data_source"]
