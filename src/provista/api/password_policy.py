"""The password policy: at least 12 characters, not the user name, not a well-known password.

Length does most of the work (NIST SP 800-63B §5.1.1.2: a minimum length and a blocklist of common or
compromised passwords, no composition rules). The blocklist is small and kept here, so it works offline.
"""

from __future__ import annotations

MIN_LENGTH = 12
MAX_LENGTH = 256  # argon2 hashes anything, but a megabyte "password" is an attack, not a password

# Passwords of 12+ characters that lead published lists of leaked passwords (English and Chinese users),
# and the obvious ones for this platform. Compared in lower case.
COMMON = frozenset(
    [
        "123456789012",
        "1234567890123",
        "12345678901234",
        "123456789123",
        "1234567890qwe",
        "1234567890abc",
        "111111111111",
        "000000000000",
        "123123123123",
        "1q2w3e4r5t6y",
        "1qaz2wsx3edc",
        "1qaz2wsx3edc4rfv",
        "qwertyuiop12",
        "qwertyuiop123",
        "qwertyuiopasdf",
        "qwerty123456",
        "qwertyuiopasdfghjkl",
        "asdfghjkl123",
        "zxcvbnm12345",
        "zaq12wsxcde3",
        "password1234",
        "password12345",
        "password123456",
        "passw0rd1234",
        "p@ssw0rd1234",
        "p@ssword1234",
        "iloveyou1234",
        "iloveyou12345",
        "woaini131452",
        "woaini1314520",
        "woaini5201314",
        "5201314woaini",
        "5201314520",
        "abc123456789",
        "abcd12345678",
        "aa123456789",
        "a123456789012",
        "admin1234567",
        "admin12345678",
        "administrator",
        "administrator1",
        "welcome12345",
        "letmein12345",
        "changeme1234",
        "changeme12345",
        "default12345",
        "trustno11234",
        "football1234",
        "baseball1234",
        "superman1234",
        "sunshine1234",
        "monkey123456",
        "dragon123456",
        "princess1234",
        "computer1234",
        "internet1234",
        "hospital1234",
        "hospital12345",
        "doctor123456",
        "patient12345",
        "provista1234",
        "provista12345",
        "provista123456",
        "provistademo",
        "provista-demo",
    ]
)


def password_problems(password: str, username: str) -> list[str]:
    """What is wrong with ``password`` for ``username`` (empty when it passes)."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"it has {len(password)} characters; at least {MIN_LENGTH} are needed")
    if len(password) > MAX_LENGTH:
        problems.append(f"it has more than {MAX_LENGTH} characters")
    folded = password.casefold()
    name = username.casefold()
    if name and folded in (name, name[::-1]):
        problems.append("it is the user name")
    if folded in COMMON:
        problems.append("it is one of the most common passwords")
    if len(set(password)) < 5:
        problems.append("it repeats fewer than 5 different characters")
    return problems
