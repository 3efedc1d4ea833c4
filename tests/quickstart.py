#!/usr/bin/env python3
"""quickstart.py README NAME - run README's quick-start block NAME and check
its shown output.

A block is the fenced code block after a line `<!-- quickstart: NAME -->`.
Its lines starting with "$ " are commands, run one after the other with
/bin/sh in the repository root (stdout and stderr together); the lines after
a command, up to the next one, are the output it must show, in order: each
line is a pattern in which "..." stands for any text, and a line that is
"..." alone stands for any number of lines.  Exit 0 when every command
succeeds and shows its output; else 1, with the first difference.
"""
import os
import re
import subprocess
import sys


def block(readme, name):
    lines = open(readme).read().split("\n")
    marker = "<!-- quickstart: %s -->" % name
    i = lines.index(marker) + 1
    while not lines[i].startswith("```"):
        i += 1
    j = i + 1
    while not lines[j].startswith("```"):
        j += 1
    return lines[i + 1:j]


def steps(lines):
    """[(command, [expected lines])]"""
    out = []
    for line in lines:
        if line.startswith("$ "):
            out.append((line[2:], []))
        elif out:
            out[-1][1].append(line)
    return out


def pattern(line):
    return re.compile("^" + ".*".join(re.escape(p) for p in line.split("...")) + "$")


def matches(expected, actual):
    """Every expected line in order; "..." alone skips any number of lines,
    and without it the lines must follow one another."""
    def go(e, a):
        if e == len(expected):
            return a == len(actual) or (e > 0 and expected[-1] == "...")
        if expected[e] == "...":
            return any(go(e + 1, k) for k in range(a, len(actual) + 1))
        return a < len(actual) and pattern(expected[e]).match(actual[a]) and go(e + 1, a + 1)
    return go(0, 0)


def main():
    readme, name = sys.argv[1], sys.argv[2]
    root = os.path.dirname(os.path.abspath(readme))
    for cmd, expected in steps(block(readme, name)):
        r = subprocess.run(["/bin/sh", "-c", cmd], cwd=root, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        actual = r.stdout.rstrip("\n").split("\n") if r.stdout.strip() else []
        if r.returncode != 0:
            print("quickstart %s: `%s` exited %d:\n%s" % (name, cmd, r.returncode, r.stdout[-800:]))
            return 1
        if not matches(expected, actual):
            print("quickstart %s: `%s` shows\n%s\nwhere README shows\n%s"
                  % (name, cmd, "\n".join(actual[-20:]), "\n".join(expected)))
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
