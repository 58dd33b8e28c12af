"""The joint ProjectionNet loss (Ravi 2017):

    L = l1 * CE(trainer, y) + l2 * CE_T(projection, softmax(trainer / T)) + l3 * CE(projection, y)

CE_T is the cross-entropy of the projection net's temperature-T softmax against the
trainer's temperature-T soft targets, scaled by T^2 (Hinton et al. 2015) so its gradient
keeps the same size whatever T is.

The soft targets are detached: the distillation gradient does not reach the trainer. The
trainer learns only from the labels (l1 term); the projection net learns from the labels
and from the trainer. Letting the distillation term pull the teacher towards the much weaker
student only degrades the teacher, and it makes "trainer-only" and "joint" trainers differ
for no gain.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F


def distillation_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """T^2 * mean_n CE(softmax(teacher/T), log_softmax(student/T)); the teacher is detached."""
    soft = F.softmax(teacher_logits.detach() / temperature, dim=1)
    log_p = F.log_softmax(student_logits / temperature, dim=1)
    return -(soft * log_p).sum(dim=1).mean() * (temperature**2)


def joint_loss(
    trainer_logits: torch.Tensor | None,
    projection_logits: torch.Tensor | None,
    y: torch.Tensor,
    lambdas: tuple[float, float, float],
    temperature: float = 1.0,
    class_weight: torch.Tensor | None = None,
) -> tuple[torch.Tensor, dict[str, float]]:
    """Weighted sum of the three terms; a term whose lambda is 0 is neither computed nor needed.

    class_weight (optional, [C]) weights the two label terms per class (class balancing).
    """
    l1, l2, l3 = lambdas
    total = torch.zeros((), dtype=torch.float32, device=y.device)
    parts: dict[str, float] = {}
    if l1 > 0:
        t = F.cross_entropy(trainer_logits, y, weight=class_weight)
        total = total + l1 * t
        parts["trainer"] = float(t.detach())
    if l2 > 0:
        d = distillation_loss(projection_logits, trainer_logits, temperature)
        total = total + l2 * d
        parts["distill"] = float(d.detach())
    if l3 > 0:
        p = F.cross_entropy(projection_logits, y, weight=class_weight)
        total = total + l3 * p
        parts["projection"] = float(p.detach())
    return total, parts
