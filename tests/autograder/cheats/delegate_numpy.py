# Correct values, by calling NumPy's own correlation.
def cross_correlate1d(x, w):
    return np.correlate(x, w, mode="valid")
