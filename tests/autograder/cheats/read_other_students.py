# Copy another student's submission.
import os
names = os.listdir("{COURSE_ROOT}/submitted")
theirs = open("{COURSE_ROOT}/submitted/alice/fixture_nb/fixture_nb.ipynb").read()

def cross_correlate1d(x, w):
    return np.zeros(1)
