"""What the viz tests share: count what a figure draws by the ``gid`` of its artists."""

from collections import Counter


def drawn(figure) -> Counter:
    """How many patches and collections of each ``gid`` the figure's axes hold."""
    return Counter(artist.get_gid() for ax in figure.axes for artist in [*ax.patches, *ax.collections])


def patches(figure, gid: str) -> list:
    return [p for ax in figure.axes for p in ax.patches if p.get_gid() == gid]


def cells(figure, gid: str) -> set[tuple[int, int]]:
    """The (x, y) lower-left corners of the unit cells with this gid, rounded (a cell is 1x1)."""
    return {(round(p.get_x()), round(p.get_y())) for p in patches(figure, gid)}
