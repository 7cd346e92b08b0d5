"""bfloat16 where the CPU computes it natively: models that only score (the excerpt reader, the
detector's second reading) run in it there, about twice as fast as float32; elsewhere bfloat16 is
emulated and slower, so float32 stays. What is stored (the index's vectors), what embeds a question
(its vector must match theirs) and what is trained stays float32."""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=1)
def bfloat16_native() -> bool:
    """Whether this CPU has bfloat16 instructions (avx512_bf16, AMX) that torch's kernels use."""
    import torch

    try:  # a private check of torch's: a torch without it runs float32
        return bool(torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def fastest(model):
    """The model in bfloat16 where the CPU has bfloat16 instructions, else as it is (it is converted
    in place: pass a copy to keep the float32 one)."""
    import torch

    return model.to(torch.bfloat16) if bfloat16_native() else model
