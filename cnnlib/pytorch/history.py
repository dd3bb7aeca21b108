"""The record of a training run, one entry per epoch, and its learning curves."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

__all__ = ["History"]


@dataclass
class History:
    """Per-epoch figures of a :func:`cnnlib.pytorch.train.fit` run.

    Attributes
    ----------
    epoch : list of int
        1, 2, ...
    lr : list of float
        Learning rate at the end of the epoch.
    train_loss, train_acc : list of float
        Mean training loss (with label smoothing, if any) and accuracy over the epoch, measured on the
        augmented batches as the weights changed.
    val_loss, val_top1, val_top5 : list of float
        Cross-entropy, top-1 and top-5 accuracy on the validation set after the epoch (``nan`` when
        there is no validation set).
    train_time : list of float
        Seconds the epoch's training took (not the evaluation).
    images_per_s : list of float
        Training throughput over the epoch.
    """

    epoch: list = field(default_factory=list)
    lr: list = field(default_factory=list)
    train_loss: list = field(default_factory=list)
    train_acc: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    val_top1: list = field(default_factory=list)
    val_top5: list = field(default_factory=list)
    train_time: list = field(default_factory=list)
    images_per_s: list = field(default_factory=list)

    def append(self, **figures) -> None:
        """Add one epoch's figures, one keyword per attribute."""
        if set(figures) != set(self.as_dict()):
            raise ValueError(f"an epoch needs exactly the figures {sorted(self.as_dict())}, got {sorted(figures)}")
        for name, value in figures.items():
            getattr(self, name).append(value)

    def __len__(self) -> int:
        return len(self.epoch)

    def as_dict(self) -> dict:
        """The figures as a dict of lists (what a checkpoint stores)."""
        return asdict(self)

    def time_to_accuracy(self, target: float) -> float | None:
        """Training seconds until the validation top-1 accuracy first reached ``target`` (in [0, 1]), or ``None``."""
        elapsed = 0.0
        for seconds, top1 in zip(self.train_time, self.val_top1):
            elapsed += seconds
            if top1 >= target:
                return elapsed
        return None

    def plot(self, axes=None):
        """Learning curves: loss on the left, accuracy on the right, training and validation together.

        Parameters
        ----------
        axes : pair of matplotlib Axes, optional
            Where to draw; by default a new figure with two panels.

        Returns
        -------
        matplotlib.figure.Figure
        """
        import matplotlib.pyplot as plt

        if axes is None:
            _, axes = plt.subplots(1, 2, figsize=(10, 3.5), layout="constrained")
        loss_ax, acc_ax = axes
        loss_ax.plot(self.epoch, self.train_loss, marker="o", label="train")
        loss_ax.plot(self.epoch, self.val_loss, marker="o", label="validation")
        loss_ax.set(xlabel="epoch", ylabel="cross-entropy loss", title="Loss")
        acc_ax.plot(self.epoch, self.train_acc, marker="o", label="train")
        acc_ax.plot(self.epoch, self.val_top1, marker="o", label="validation top-1")
        acc_ax.set(xlabel="epoch", ylabel="accuracy", title="Accuracy")
        for ax in axes:
            ax.grid(alpha=0.3)
            ax.legend()
        return loss_ax.figure
