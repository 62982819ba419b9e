#!/usr/bin/env python3
"""Compare two tailsweep archives by the determinism contract (docs/architecture.md section 6).

    archive_compare.py A.h5 B.h5

Exit 0 when both hold the same datasets outside /provenance, each with the same type, shape,
attributes, attached dimensions and bit-identical values (a NaN equals any NaN), and the same
root attributes apart from created, finished and mpi_ranks, which may differ between runs.
Otherwise print the first difference and exit 1; exit 2 when a file cannot be read.

Dimension-scale bookkeeping (DIMENSION_LIST, REFERENCE_LIST) holds object addresses, which
may differ between two equally valid files; it is compared by the names it points to.
"""
import sys

import h5py
import numpy as np

RUN_DEPENDENT_ROOT_ATTRS = {"created", "finished", "mpi_ranks"}
SCALE_BOOKKEEPING_ATTRS = {"DIMENSION_LIST", "REFERENCE_LIST"}


class Difference(Exception):
    pass


def datasets_outside_provenance(f):
    names = []

    def visit(name, obj):
        top = name.split("/", 1)[0]
        if isinstance(obj, h5py.Dataset) and top != "provenance":
            names.append(name)

    f.visititems(visit)
    return sorted(names)


def same_values(a, b):
    """Bit-identical, except that any two NaNs are equal."""
    a = np.asarray(a)
    b = np.asarray(b)
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.dtype.kind == "f":
        both_nan = np.isnan(a) & np.isnan(b)
        bits = a.view(np.dtype("u%d" % a.dtype.itemsize)) == b.view(
            np.dtype("u%d" % b.dtype.itemsize))
        return bool(np.all(bits | both_nan))
    if a.dtype.kind == "O":
        return all(x == y for x, y in zip(a.ravel(), b.ravel()))
    return a.tobytes() == b.tobytes()


def first_mismatch(a, b):
    """Index and values of the first differing element, for the message."""
    a = np.asarray(a)
    b = np.asarray(b)
    for idx in np.ndindex(a.shape):
        x, y = a[idx], b[idx]
        if a.dtype.kind == "f" and np.isnan(x) and np.isnan(y):
            continue
        if not same_values(np.asarray(x), np.asarray(y)):
            return idx, x, y
    return None, None, None


def attribute_difference(where, attrs_a, attrs_b, skip):
    keys_a = set(attrs_a.keys()) - skip
    keys_b = set(attrs_b.keys()) - skip
    if keys_a != keys_b:
        only_a = sorted(keys_a - keys_b)
        only_b = sorted(keys_b - keys_a)
        return "%s: attributes differ: only in A %s, only in B %s" % (where, only_a, only_b)
    for key in sorted(keys_a):
        va, vb = attrs_a[key], attrs_b[key]
        if not same_values(np.asarray(va), np.asarray(vb)):
            return "%s: attribute %s differs: %r vs %r" % (where, key, va, vb)
    return None


def dimension_names(ds):
    return [tuple(scale.name for scale in dim.values()) for dim in ds.dims]


def compare_dataset(name, da, db):
    if da.dtype != db.dtype:
        raise Difference("/%s: types differ: %s vs %s" % (name, da.dtype, db.dtype))
    if da.shape != db.shape:
        raise Difference("/%s: shapes differ: %s vs %s" % (name, da.shape, db.shape))
    message = attribute_difference("/" + name, da.attrs, db.attrs, SCALE_BOOKKEEPING_ATTRS)
    if message:
        raise Difference(message)
    if dimension_names(da) != dimension_names(db):
        raise Difference("/%s: dimensions differ: %s vs %s" %
                         (name, dimension_names(da), dimension_names(db)))
    va, vb = da[()], db[()]
    if not same_values(va, vb):
        idx, x, y = first_mismatch(va, vb)
        raise Difference("/%s%s: %r vs %r" % (name, list(idx) if idx else "", x, y))


def compare(path_a, path_b):
    with h5py.File(path_a, "r") as fa, h5py.File(path_b, "r") as fb:
        message = attribute_difference("/", fa.attrs, fb.attrs, RUN_DEPENDENT_ROOT_ATTRS)
        if message:
            raise Difference(message)
        names_a = datasets_outside_provenance(fa)
        names_b = datasets_outside_provenance(fb)
        if names_a != names_b:
            only_a = sorted(set(names_a) - set(names_b))
            only_b = sorted(set(names_b) - set(names_a))
            raise Difference("datasets differ: only in A %s, only in B %s" % (only_a, only_b))
        for name in names_a:
            compare_dataset(name, fa[name], fb[name])


def main(argv):
    if len(argv) != 3:
        print("usage: archive_compare.py A.h5 B.h5", file=sys.stderr)
        return 2
    try:
        compare(argv[1], argv[2])
    except Difference as d:
        print("%s vs %s: %s" % (argv[1], argv[2], d))
        return 1
    except (OSError, KeyError) as e:
        print("archive_compare: %s" % e, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
