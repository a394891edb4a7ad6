"""Rules that the risks measured in the case studies answer to: facts only, dated.

Each :class:`Rule` names an instrument by its official title, who issued it, when it was
adopted and when it took effect, the provisions that concern a generative model, and
which measured risks of the course speak to them (``risks``, from :data:`RISKS`). It is
a checklist for a conversation with counsel, not legal advice, and it records the
instruments as published; later amendments are not tracked here.

References:
    Cyberspace Administration of China (CAC) et al., 生成式人工智能服务管理暂行办法
    (Interim Measures for the Management of Generative AI Services), 10 July 2023.
    CAC, MIIT, MPS, 互联网信息服务深度合成管理规定 (Provisions on the Administration of
    Deep Synthesis of Internet-based Information Services), 25 November 2022.
    CAC, MIIT, MPS, NRTA, 人工智能生成合成内容标识办法 (Measures for Labeling
    AI-Generated Synthetic Content), 14 March 2025.
    中华人民共和国个人信息保护法 (Personal Information Protection Law of the PRC),
    20 August 2021.
    中华人民共和国广告法 (Advertising Law of the PRC), revised 24 April 2015.
    Regulation (EU) 2024/1689 (Artificial Intelligence Act), OJ L, 12 July 2024.
"""

from __future__ import annotations

from dataclasses import dataclass

#: the measured risks a rule can be tied to
RISKS = ("privacy", "provenance", "harmful content", "false claims", "training data")


@dataclass(frozen=True)
class Rule:
    """One instrument and what it requires of a generative-AI product."""

    title: str  # official title (English; the Chinese title in the module references)
    issuer: str
    adopted: str  # ISO date of adoption or publication
    effective: str  # ISO date it took (or takes) effect
    requires: str  # the provisions, paraphrased, with article numbers
    risks: tuple[str, ...]  # which measured risks speak to it, from RISKS

    def __post_init__(self) -> None:
        if not self.risks or not set(self.risks) <= set(RISKS):
            raise ValueError(f"risks {self.risks!r} must be a non-empty subset of {RISKS}")
        if not (self.adopted <= self.effective):
            raise ValueError(
                f"{self.title}: adopted {self.adopted} after effective {self.effective}"
            )


RULES: tuple[Rule, ...] = (
    Rule(
        "Interim Measures for the Management of Generative AI Services (China)",
        "CAC and six other departments",
        "2023-07-10",
        "2023-08-15",
        "training data from lawful sources, no infringement of intellectual property, personal "
        "information only with consent or another legal basis (Art. 7); generated content "
        "labelled under the deep-synthesis rules (Art. 12); illegal content stopped and "
        "reported (Art. 14)",
        ("training data", "privacy", "harmful content"),
    ),
    Rule(
        "Provisions on the Administration of Deep Synthesis of Internet-based Information "
        "Services (China)",
        "CAC, MIIT, MPS",
        "2022-11-25",
        "2023-01-10",
        "a mark that does not affect use on generated or edited content (Art. 16); a "
        "conspicuous label where content may confuse or mislead the public (Art. 17)",
        ("provenance",),
    ),
    Rule(
        "Measures for Labeling AI-Generated Synthetic Content (China)",
        "CAC, MIIT, MPS, NRTA",
        "2025-03-14",
        "2025-09-01",
        "explicit labels that users can see on AI-generated text, images, audio and video "
        "(Art. 4), and implicit labels in the file metadata, with digital watermarks "
        "encouraged (Art. 5)",
        ("provenance",),
    ),
    Rule(
        "Personal Information Protection Law (China)",
        "NPC Standing Committee",
        "2021-08-20",
        "2021-11-01",
        "a legal basis such as consent for processing personal information (Art. 13); purpose "
        "limitation and minimisation (Art. 6); security measures against leaks (Art. 51)",
        ("privacy",),
    ),
    Rule(
        "Advertising Law (China), 2015 revision",
        "NPC Standing Committee",
        "2015-04-24",
        "2015-09-01",
        "no false or misleading content (Art. 4, Art. 28); no terms such as "
        "'national-level', 'highest-level' or 'best' (国家级, 最高级, 最佳; Art. 9(3))",
        ("false claims",),
    ),
    Rule(
        "Artificial Intelligence Act, Regulation (EU) 2024/1689",
        "European Parliament and Council",
        "2024-06-13",
        "2026-08-02",
        "outputs of systems that generate synthetic text, audio, images or video marked in a "
        "machine-readable format and detectable as AI-generated (Art. 50(2)); deployers "
        "disclose deep fakes (Art. 50(4)); in force since 2024-08-01, Art. 50 applies from "
        "2026-08-02",
        ("provenance",),
    ),
)
