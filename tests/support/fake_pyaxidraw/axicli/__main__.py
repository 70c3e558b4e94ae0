"""``python -m axicli FILE [options]``: the axicli options penspec's report uses, on the fake.

Option letters as AxiDraw's axicli has them: -m mode, -l layer, -L model, -s/-S pen-down/pen-up
speed, -a acceleration, -d/-u pen-down/pen-up height, -o output file, -v preview, -T report time.
An option the fake does not know is an error, so a command with a typo fails here too.
"""

import argparse
import sys

from pyaxidraw import axidraw


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="axicli")
    parser.add_argument("file")
    parser.add_argument("-m", "--mode")
    parser.add_argument("-l", "--layer", type=int)
    parser.add_argument("-L", "--model", type=int)
    parser.add_argument("-s", "--speed_pendown", type=int)
    parser.add_argument("-S", "--speed_penup", type=int)
    parser.add_argument("-a", "--accel", type=int)
    parser.add_argument("-d", "--pen_pos_down", type=int)
    parser.add_argument("-u", "--pen_pos_up", type=int)
    parser.add_argument("-o", "--output_file")
    parser.add_argument("-v", "--preview", action="store_true")
    parser.add_argument("-T", "--report_time", action="store_true")
    args = parser.parse_args(argv)
    ad = axidraw.AxiDraw()
    ad.plot_setup(args.file)
    for name, value in vars(args).items():
        if name not in ("file", "output_file") and value not in (None, False):
            setattr(ad.options, name, value)
    out = ad.plot_run(True)
    if args.output_file and out:
        with open(args.output_file, "w", encoding="utf-8") as fh:
            fh.write(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
