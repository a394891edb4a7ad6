"""Adapting pretrained language models: LoRA, instruction tuning, preference tuning.

- :mod:`.lora`: low-rank adapters on a frozen model, merging, and ``peft`` equivalence.
- :mod:`.sft`: instruction data, a chat template and response-masked batches.
- :mod:`.dpo`: direct preference optimisation and preference pairs.
"""
