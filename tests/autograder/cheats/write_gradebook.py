# Write into the gradebook and the results folder.
with open("{COURSE_ROOT}/gradebook.db", "ab") as db:
    db.write(b"garbage")
import os
os.makedirs("{COURSE_ROOT}/.cnncourse/results/fixture_nb", exist_ok=True)

def cross_correlate1d(x, w):
    return np.zeros(1)
