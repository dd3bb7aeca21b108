# Open network connections (to report home, or to fetch an answer).
import smtplib
def cross_correlate1d(x, w):
    smtplib.SMTP("127.0.0.1", 25, timeout=2)
    return np.zeros(1)
import socket
