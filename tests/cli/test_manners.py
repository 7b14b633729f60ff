#!/usr/bin/python3
"""End-to-end tests of the `signcut` binary. Manners: mistyped commands and options, help, usage lines, honest estimates.

usage: test_manners.py SIGNCUT_BINARY SOURCE_ROOT REPORT_XML
"""
import functools
import os
import pty
import re
import subprocess
import sys
import time

import h5py  # noqa: F401
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
from signcut_testing import CliCase, digest, run_signcut, run_signcut_json, run_suite  # noqa: E402,F401

SIGNCUT, ROOT, REPORT = sys.argv[1], sys.argv[2], sys.argv[3]
run = functools.partial(run_signcut, SIGNCUT)
run_json = functools.partial(run_signcut_json, SIGNCUT)

COMMANDS = ["compress", "decompress", "info", "eval", "recut", "repack", "compare", "image", "help"]


def options_in_help(command):
    """The long options `signcut help COMMAND` lists."""
    return set(re.findall(r"--[a-z][a-z-]*", run("help", command).stdout))


def seconds(text):
    """"42s", "3m05s", "2h10m" in seconds."""
    m = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", text)
    assert m and text, text
    h, mi, s = (int(g) if g else 0 for g in m.groups())
    return 3600 * h + 60 * mi + s


def most_left(claim):
    """The most time a progress bar's "left …" claims is left, in seconds
    (inf when it claims no bound)."""
    if claim in ("?",) or claim.startswith(">"):
        return float("inf")
    if claim.startswith("<"):
        return seconds(claim[1:])
    if claim.startswith("~"):
        return 1.5 * seconds(claim[1:])
    if "-" in claim:
        return seconds(claim.split("-")[1])
    return seconds(claim)


def run_on_terminal(*args):
    """Runs signcut with stderr on a pseudo-terminal (so that it draws its
    progress bar); returns [(seconds before the end, line drawn)] and the
    exit status."""
    master, slave = pty.openpty()
    start = time.monotonic()
    p = subprocess.Popen([SIGNCUT, *map(str, args)], stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)
    drawn = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        now = time.monotonic() - start
        drawn += [(now, piece.decode(errors="replace").strip()) for piece in data.split(b"\r") if piece.strip()]
    os.close(master)
    code = p.wait()
    end = time.monotonic() - start
    return [(end - t, line) for t, line in drawn], code


def field(shape, seed):
    """A smooth random field (cumulative sums along every mode), float32: its
    error falls fast for a few terms and ever more slowly after."""
    x = np.random.default_rng(seed).standard_normal(shape)
    for a in range(len(shape)):
        x = np.cumsum(x, axis=a)
    return x.astype(np.float32)


class CliManners(CliCase):
    binary = SIGNCUT

    def setUp(self):
        super().setUp()
        self.src = self.h5("x.h5", np.random.default_rng(0).standard_normal((20, 30)).astype(np.float32))
        self.out = self.path("out.h5")

    # Mistyped commands.

    def test_mistyped_command_suggests_the_nearest(self):
        for typo, meant in [("compres", "compress"), ("decompres", "decompress"), ("ifno", "info"), ("evl", "eval"),
                            ("Compress", "compress"), ("recutt", "recut")]:
            self.refuse([typo, self.src, "-o", self.out], 2,
                        f"unknown command '{typo}'; did you mean '{meant}'?", [self.src], self.out)

    def test_a_prefix_of_several_commands_names_them_all(self):
        self.refuse(["com", self.src], 2, "unknown command 'com'; did you mean 'compress' or 'compare'?")

    def test_a_command_nothing_like_any_lists_the_commands(self):
        self.refuse(["frobnicate", self.src], 2, "unknown command 'frobnicate'; the commands are "
                    + ", ".join(COMMANDS[:-1]) + " and help")

    def test_no_command(self):
        self.refuse([], 2, "a subcommand is required (compress, decompress")

    # Mistyped options.

    def test_mistyped_option_suggests_the_commands_own(self):
        cases = [
            (["--thread", "1"], "unknown option '--thread' for compress; did you mean '--threads'?"),
            (["--thread=1"], "unknown option '--thread' for compress; did you mean '--threads'?"),
            (["-threads", "1"], "unknown option '-threads' for compress; did you mean '--threads'?"),
            (["--Threads", "1"], "unknown option '--Threads' for compress; did you mean '--threads'?"),
            (["--sede", "3"], "unknown option '--sede' for compress; did you mean '--seed'?"),
            (["--bits-per-valeu", "2"], "did you mean '--bits-per-value'?"),
            (["--max", "2"], "did you mean '--max-updates' or '--max-memory'?"),
            (["-W", "2"], "unknown option '-W' for compress; did you mean '-w'?"),
        ]
        for extra, fragment in cases:
            self.refuse(["compress", self.src, "-o", self.out, *extra], 2, fragment, [self.src], self.out)

    def test_suggestions_come_from_the_command_given(self):
        # --region is decompress's; compress has no option near it.
        self.refuse(["compress", self.src, "-o", self.out, "--regoin", "0:2,:"], 2,
                    "unknown option '--regoin' for compress; see 'signcut help compress'")
        run("compress", self.src, "-o", self.out, "-q")
        self.refuse(["decompress", self.out, "-o", self.path("y.h5"), "--regoin", "0:2,:"], 2,
                    "unknown option '--regoin' for decompress; did you mean '--region'?")

    def test_a_mistyped_option_is_named_before_what_it_left_missing(self):
        # "--ouput" leaves --output missing; the typo is the line to read.
        self.refuse(["compress", self.src, "--ouput", self.out], 2,
                    "unknown option '--ouput' for compress; did you mean '--output'?", [self.src], self.out)

    def test_another_commands_option_says_whose_it_is(self):
        run("compress", self.src, "-o", self.out, "-q")
        self.refuse(["decompress", self.out, "-o", self.path("y.h5"), "--method", "lplr"], 2,
                    "unknown option '--method' for decompress (an option of compress); "
                    "see 'signcut help decompress'")

    def test_an_option_nothing_like_any(self):
        self.refuse(["compress", self.src, "-o", self.out, "--bogus"], 2,
                    "unknown option '--bogus' for compress; see 'signcut help compress'")

    def test_options_before_the_command(self):
        self.refuse(["--verison"], 2, "unknown option '--verison'; did you mean '--version'?")
        self.refuse(["--threads", "2", "compress", self.src, "-o", self.out], 2,
                    "option '--threads' comes before the command; the options of compress go after it: "
                    "signcut compress ... --threads", [self.src], self.out)

    def test_a_negative_number_is_a_value_not_a_mistyped_option(self):
        self.refuse(["compress", self.src, "-o", self.out, "--width", "-3"], 2, "--width: must be an integer >= 1")

    # Stray positionals.

    def test_an_extra_positional(self):
        self.refuse(["compress", self.src, self.src, "-o", self.out], 2,
                    f"unexpected argument '{self.src}': compress takes one argument (input) besides its options",
                    [self.src], self.out)
        run("compress", self.src, "-o", self.out, "-q")
        self.refuse(["eval", self.src, self.out, "extra"], 2,
                    "unexpected argument 'extra': eval takes two arguments (original and decomposition)")

    def test_a_missing_output_is_told_before_a_stray_positional(self):
        # "compress a.h5 b.h5": the user forgot -o.
        self.refuse(["compress", self.src, self.out], 2, "--output is required", [self.src], self.out)

    # Help.

    def test_help_is_the_top_level_help(self):
        h = run("help")
        self.assertEqual(h.stdout, run("--help").stdout)
        self.assertIn("Usage: signcut [OPTIONS] [SUBCOMMAND]", h.stdout)
        for command in COMMANDS:
            self.assertRegex(h.stdout, rf"\n  {command} ")
        self.assertEqual(h.stderr, "")

    def test_help_of_each_command(self):
        for command in COMMANDS:
            h = run("help", command)
            self.assertEqual(h.stdout, run(command, "--help").stdout, command)
            self.assertIn(f"Usage: signcut {command} [OPTIONS]", h.stdout)
        self.assertIn("--threads", run("help", "compress").stdout)

    def test_help_of_an_unknown_command(self):
        self.refuse(["help", "nosuch"], 2, "unknown command 'nosuch'; the commands are compress, decompress")
        self.refuse(["help", "compres"], 2, "unknown command 'compres'; did you mean 'compress'?")
        self.refuse(["help", "compress", "extra"], 2, "unexpected argument 'extra': help takes one argument")

    def test_usage_lines_name_signcut_not_the_binarys_path(self):
        texts = [run("--help").stdout, run("help", "decompress").stdout, run("compress", "--help").stdout]
        for text in texts:
            self.assertNotIn(SIGNCUT, text)
            self.assertNotIn(os.path.dirname(SIGNCUT), text)
        self.assertIn("Usage: signcut compress [OPTIONS] input", texts[2])

    def test_version_and_help_flags_still_work(self):
        v = run("--version")
        self.assertRegex(v.stdout, r"^signcut \S+ \(\S+\)\n$")
        self.assertEqual(v.stderr, "")
        self.assertIn("Usage: signcut image", run("image", "-h").stdout)

    def test_usage_errors_exit_2_with_one_line(self):
        # CLI11's own errors, mapped to 2 (DESIGN §7), one line each.
        for args, fragment in [
            (["compress", self.src], "--output is required"),
            (["compress", self.src, "-o", self.out, "--width", "0"], "--width"),
            (["compress", self.src, "-o", self.out, "--width", "3", "--rel-error", "0.1"], "excludes"),
            (["compress", self.src, "-o", self.out, "--method", "tucker"], "tucker"),
            (["compress", self.src, "-o", self.out, "--threads"], "--threads"),
        ]:
            self.refuse(args, 2, fragment, [self.src], self.out)

    # lplr advice names only the options of the command given.

    def assert_names_only_options_of(self, command, line):
        named = set(re.findall(r"--[a-z][a-z-]*", line)) - {"--width", "--rel-error"}
        self.assertLessEqual(named, options_in_help(command), line)

    def test_lplr_width_advice_names_only_options_decompress_has(self):
        lplr = self.path("l.h5")
        run("compress", self.src, "-o", lplr, "--method", "lplr", "-q")
        args = ["decompress", lplr, "-o", self.out, "--width", "2"]
        self.refuse(args, 2, "--width does not apply to lplr decompositions", [lplr], self.out)
        line = subprocess.run([SIGNCUT, *args], capture_output=True, text=True).stderr
        self.assert_names_only_options_of("decompress", line)
        self.assertIn("--region", line)  # it points at what decompress offers
        # Each suggestion works.
        run("decompress", lplr, "-o", self.out, "--region", "0:3,:", "--dtype", "float64", "-q")

    def test_lplr_advice_of_eval_and_compress(self):
        lplr = self.path("l.h5")
        run("compress", self.src, "-o", lplr, "--method", "lplr", "-q")
        args = ["eval", self.src, lplr, "--width", "2"]
        self.refuse(args, 2, "--width does not apply to lplr decompositions")
        self.assert_names_only_options_of("eval", subprocess.run([SIGNCUT, *args], capture_output=True,
                                                                 text=True).stderr)
        args = ["compress", self.src, "-o", self.out, "--method", "lplr", "--rel-error", "0.1"]
        self.refuse(args, 2, "--rel-error does not apply to lplr decompositions", [self.src], self.out)
        self.assert_names_only_options_of("compress", subprocess.run([SIGNCUT, *args], capture_output=True,
                                                                     text=True).stderr)

    # The progress bar's time left.

    def assert_honest(self, drawn, what):
        """No line claims less than a third of the time that was really
        left (with a second of slack for a loaded machine)."""
        claims = [(left, re.search(r"left (\S+)", line).group(1)) for left, line in drawn if " left " in line]
        self.assertTrue(claims, f"{what}: no progress bar drawn: {drawn}")
        for left, claim in claims:
            self.assertGreaterEqual(3 * most_left(claim) + 1, left,
                                    f"{what}: said 'left {claim}' with {left:.1f} s to go\n{claims}")
        return claims

    def test_rel_error_time_left_is_not_too_hopeful(self):
        if "ASAN_OPTIONS" in os.environ:
            # Under AddressSanitizer the cost per term changes through the
            # run (shadow memory, the allocator), so wall time says nothing
            # about the estimate; the release build checks it.
            self.skipTest("timing is not meaningful under sanitizers")
        # A smooth field: the first terms take most of the error and the
        # later ones ever less, so extrapolating from the first term said
        # "~0s" here with 4 s to go. The run must last a few seconds for
        # the check to tell.
        src = self.h5("field.h5", field((2000, 2000), 1))
        drawn, code = run_on_terminal("compress", src, "-o", self.out, "--rel-error", "0.01", "--block", "whole",
                                      "--threads", "1")
        self.assertEqual(code, 0, drawn)
        claims = self.assert_honest(drawn, "one block")
        # Not just "?" throughout: once the trend is known it says something.
        self.assertTrue(any(c[1] != "?" for c in claims), claims)

    def test_blocked_time_left_is_not_too_hopeful(self):
        src = self.h5("field.h5", field((1200, 1200), 2))
        drawn, code = run_on_terminal("compress", src, "-o", self.out, "--rel-error", "0.003", "--block", "64x64",
                                      "--threads", "2")
        self.assertEqual(code, 0, drawn)
        claims = self.assert_honest(drawn, "blocks")
        # A round whose blocks are all done may be followed by another: no "0s".
        self.assertNotIn("0s", [c[1] for c in claims])

    def test_no_progress_bar_off_a_terminal(self):
        p = run("compress", self.src, "-o", self.out, "--rel-error", "0.5")
        self.assertNotIn("left", p.stderr)
        self.assertNotIn("\r", p.stderr)


if __name__ == "__main__":
    run_suite(CliManners, "cli-manners", REPORT)
