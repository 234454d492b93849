# binarytrees: the Computer Language Benchmarks Game's allocation benchmark
# (single process: the multiprocessing variant needs fork, which is measured
# separately). Output is the checksum.
import sys


def make_tree(d):
    return (make_tree(d - 1), make_tree(d - 1)) if d else (None, None)


def check_tree(node):
    left, right = node
    return 1 if left is None else 1 + check_tree(left) + check_tree(right)


def main(n):
    min_depth = 4
    max_depth = max(min_depth + 2, n)
    stretch = max_depth + 1
    print(f"stretch tree of depth {stretch}\t check: {check_tree(make_tree(stretch))}")
    long_lived = make_tree(max_depth)
    for d in range(min_depth, stretch, 2):
        iters = 2 ** (max_depth - d + min_depth)
        check = sum(check_tree(make_tree(d)) for _ in range(iters))
        print(f"{iters}\t trees of depth {d}\t check: {check}")
    print(f"long lived tree of depth {max_depth}\t check: {check_tree(long_lived)}")


main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
