#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# The malformed-input corpus: broken problem files and bad option sets, each with the fragment
# that parot's single error message must contain. Used by test_malformed.py; run alone to write
# the corpus to a folder:  malformed.py VALID_PROBLEM.h5 OUTDIR
import os
import shutil
import sys

import h5py
import numpy as np


def _copy(valid, path, edit):
    shutil.copyfile(valid, path)
    with h5py.File(path, "a") as f:
        edit(f)


def _replace(name, value):
    def edit(f):
        del f[name]
        f[name] = value
    return edit


def _set_entry(name, index, value):
    def edit(f):
        data = f[name][:]
        data[index] = value
        del f[name]
        f[name] = data
    return edit


def _scale(name, factor):
    return lambda f: _replace(name, f[name][:] * factor)(f)


def _attr(key, value):
    def edit(f):
        f.attrs[key] = value
    return edit


def _del_attr(key):
    def edit(f):
        del f.attrs[key]
    return edit


def _delete(name):
    def edit(f):
        del f[name]
    return edit


def make_corpus(valid, outdir):
    """Writes the broken files; returns [(name, path, expected message fragment)]."""
    with h5py.File(valid, "r") as f:
        n, d = f["source/points"].shape
        m = f["target/points"].shape[0]
    cases = []

    def case(name, fragment, edit=None, raw=None):
        path = os.path.join(outdir, name + ".h5")
        if raw is not None:
            with open(path, "wb") as out:
                out.write(raw)
        else:
            _copy(valid, path, edit)
        cases.append((name, path, fragment))

    data = open(valid, "rb").read()
    case("truncated_half", "corrupt or truncated", raw=data[: len(data) // 2])
    case("truncated_tail", "", raw=data[:-200])
    case("truncated_10_bytes", "corrupt or truncated", raw=data[:10])
    case("empty_file", "not an HDF5 file", raw=b"")
    case("text_file", "not an HDF5 file", raw=b"this is not hdf5\n" * 10)
    for name in ["source/weights", "target/weights", "source/points", "target/points"]:
        case("missing_" + name.replace("/", "_"), "/" + name + " is missing", _delete(name))
    case("missing_format", "missing root attribute 'format'", _del_attr("format"))
    case("wrong_format", "attribute 'format' is 'parot-result'", _attr("format", "parot-result"))
    case("numeric_format", "'format'", _attr("format", 3.0))
    case("format_version_2", "format_version 2 is not supported", _attr("format_version", 2))
    case("format_version_0", "format_version 0 is not supported", _attr("format_version", 0))
    case("format_version_fraction", "is not supported", _attr("format_version", 1.5))
    case("format_version_string", "missing numeric root attribute 'format_version'",
         _attr("format_version", "1"))
    case("missing_format_version", "format_version", _del_attr("format_version"))
    case("weights_int", "/source/weights must be floating point",
         _replace("source/weights", np.ones(n, dtype=np.int64)))
    case("weights_string", "/target/weights must be floating point",
         _replace("target/weights", np.array([b"x"] * m)))
    case("points_int", "/source/points must be floating point",
         _replace("source/points", np.ones((n, d), dtype=np.int32)))
    case("weights_2d", "/source/weights must be 1-D", _replace("source/weights", np.ones((n, 1))))
    case("points_1d", "/target/points must be 2-D", _replace("target/points", np.ones(m)))
    case("points_3d", "/source/points must be 2-D", _replace("source/points", np.ones((n, d, 1))))
    case("points_rows_mismatch", "/source/points has",
         _replace("source/points", np.zeros((n + 1, d))))
    case("target_rows_mismatch", "/target/points has",
         _replace("target/points", np.zeros((m - 1, d))))
    case("dimension_mismatch", "dimension", _replace("target/points", np.zeros((m, d + 1))))
    case("points_dimension_0", "dimension",
         lambda f: (_replace("source/points", np.zeros((n, 0)))(f),
                    _replace("target/points", np.zeros((m, 0)))(f)))
    for side, count in [("source", n), ("target", m)]:
        w = f"{side}/weights"
        case(f"nan_{side}_weight", f"{side} weights: entry {count - 1} is not finite",
             _set_entry(w, count - 1, np.nan))
        case(f"inf_{side}_weight", f"{side} weights: entry 0 is not finite", _set_entry(w, 0, np.inf))
        case(f"neg_inf_{side}_weight", f"{side} weights: entry 1 is not finite",
             _set_entry(w, 1, -np.inf))
        case(f"negative_{side}_weight", f"{side} weights: entry 2 is negative",
             _set_entry(w, 2, -1e-3))
        case(f"zero_{side}_mass", "total mass must be positive", _scale(w, 0.0))
        case(f"nan_{side}_point", f"{side} points: entry (3, 1) is not finite",
             _set_entry(f"{side}/points", (3, 1), np.nan))
        case(f"inf_{side}_point", f"{side} points: entry (0, 0) is not finite",
             _set_entry(f"{side}/points", (0, 0), np.inf))
        case(f"empty_{side}", f"/{side}/weights is empty",
             lambda f, side=side: (_replace(f"{side}/weights", np.zeros(0))(f),
                                   _replace(f"{side}/points", np.zeros((0, d)))(f)))
    case("masses_differ", "masses differ", _scale("source/weights", 2.0))
    case("masses_differ_1e-6", "masses differ", _scale("target/weights", 1 + 1e-6))
    case("unknown_cost", "unknown cost 'cosine'", _attr("cost", "cosine"))
    case("matrix_cost_without_matrix", "dataset /cost is missing", _attr("cost", "matrix"))
    case("lp_p_half", "attribute p must be >= 1", lambda f: (_attr("cost", "lp")(f), _attr("p", 0.5)(f)))
    case("lp_p_nan", "attribute p must be >= 1", lambda f: (_attr("cost", "lp")(f), _attr("p", np.nan)(f)))
    case("lp_p_negative", "attribute p must be >= 1", lambda f: (_attr("cost", "lp")(f), _attr("p", -1.0)(f)))

    def with_cost(value):
        def edit(f):
            f["cost"] = value
            f.attrs["cost"] = "matrix"
        return edit
    case("cost_wrong_shape", f"/cost must have shape [{n}, {m}]", with_cost(np.zeros((n, m + 1))))
    case("cost_transposed", f"/cost must have shape [{n}, {m}]", with_cost(np.zeros((m, n))))
    case("cost_1d", f"/cost must have shape", with_cost(np.zeros(n * m)))
    case("cost_int", "/cost must be floating point", with_cost(np.zeros((n, m), dtype=np.int64)))
    c = np.ones((n, m))
    c[n - 1, 2] = np.nan
    case("cost_nan", f"/cost entry ({n - 1}, 2) is not finite", with_cost(c))
    c = np.ones((n, m))
    c[0, m - 1] = -np.inf
    case("cost_inf", f"/cost entry (0, {m - 1}) is not finite", with_cost(c))
    case("claim_n", f"attribute n = {n + 5} does not match", _attr("n", n + 5))
    case("claim_m", f"attribute m = {m - 1} does not match", _attr("m", m - 1))
    case("claim_d", f"attribute d = {d + 1} does not match", _attr("d", d + 1))
    case("source_is_dataset", "/source/weights is missing",
         lambda f: (_delete("source")(f), f.create_dataset("source", data=np.zeros(3))))
    case("weights_is_group", "/source/weights",
         lambda f: (_delete("source/weights")(f), f.create_group("source/weights")))
    return cases


def _write_batch(path, points, offsets):
    with h5py.File(path, "w") as f:
        f.attrs["format"] = "parot-batch"
        f.attrs["format_version"] = 1
        f.attrs["measures"] = len(offsets) - 1
        f["measures/points"] = np.asarray(points, dtype=np.float64)
        f["measures/weights"] = np.ones(len(points))
        f["measures/offsets"] = np.asarray(offsets, dtype=np.int64)


def make_sliced_corpus(outdir):
    """Broken meshes and batch files for parot-sliced, whose sizes, counts and offsets must be
    checked against the file before anything is allocated. Returns [(name, argv, expected
    message fragment, file name the message must contain)]."""
    tri = "OFF\n3 1 0\n0 0 0\n1 0 0\n0 1 0\n3 0 1 2\n"
    good = os.path.join(outdir, "good.off")
    with open(good, "w") as out:
        out.write(tri)
    cases = []

    def mesh(name, ext, text, fragment):
        path = os.path.join(outdir, name + "." + ext)
        with open(path, "w") as out:
            out.write(text)
        cases.append((name, ["-source_mesh", path, "-target_mesh", good], fragment,
                      os.path.basename(path)))

    def batch(name, offsets, fragment, rows=10):
        path = os.path.join(outdir, name + ".h5")
        _write_batch(path, np.arange(2.0 * rows).reshape(rows, 2), offsets)
        cases.append((name, ["-batch", path], fragment, os.path.basename(path)))

    mesh("off_claims_3.5e12_vertices", "off", tri.replace("3 1 0", "3500000000000 1 0"),
         "the OFF header claims 3500000000000 vertices")
    mesh("off_claims_1e9_faces", "off", tri.replace("3 1 0", "3 1000000000 0"),
         "the OFF header claims 3 vertices and 1000000000 faces")
    mesh("off_face_index_out_of_range", "off", tri.replace("3 0 1 2", "3 0 1 3"),
         "vertex index 3 outside [0, 3)")
    mesh("off_face_index_fraction", "off", tri.replace("3 0 1 2", "3 0 1 1.5"),
         "vertex index 1.5 is not an integer")
    mesh("off_face_size_huge", "off", tri.replace("3 0 1 2", "1e15 0 1 2"), "bad face size")
    mesh("obj_face_index_out_of_range", "obj", "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 7\n",
         ":4: vertex index 6 outside [0, 3)")
    mesh("obj_negative_index_out_of_range", "obj", "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 -4\n",
         ":4: vertex index -1 outside [0, 3)")
    batch("batch_offset_beyond_rows", [0, 100, 10],
          "/measures/offsets[1] = 100 claims more rows than /measures/points has (10)")
    batch("batch_offsets_end_beyond_rows", [0, 4, 25],
          "/measures/offsets[2] = 25 claims more rows than /measures/points has (10)")
    batch("batch_offsets_decreasing", [0, 6, 3, 10], "/measures/offsets must be increasing")
    batch("batch_offsets_short", [0, 4, 8], "/measures/offsets must start at 0 and end at 10")
    return cases


# Bad option sets for parot-solve (and a few for the other drivers): (argv, fragment).
BAD_OPTIONS = [
    (["-reg", "-1"], "-reg must be positive"),
    (["-reg", "0"], "-reg must be positive"),
    (["-reg", "nan"], "-reg must be positive"),
    (["-reg", "abc"], "abc"),
    (["-atol", "0"], "-atol must be positive"),
    (["-atol", "-1e-9"], "-atol must be positive"),
    (["-max_it", "0"], "-max_it must be positive"),
    (["-max_it", "-5"], "-max_it must be positive"),
    (["-max_it", "1.5"], "1.5"),
    (["-check_every", "0"], "-check_every must be positive"),
    (["-solver", "simplex"], "unknown value 'simplex'"),
    (["-regg", "0.1"], "unknown option -regg"),
    (["-output_file", "x.h5"], "unknown option -output_file"),
    (["-plan_threshold", "inf"], "-plan_threshold must be finite"),
    (["-eps_scaling_factor", "1.5"], "-eps_scaling_factor must be in (0, 1)"),
    (["-eps_scaling_factor", "0"], "-eps_scaling_factor must be in (0, 1)"),
    (["-eps_scaling_inner_atol", "0"], "-eps_scaling_inner_atol must be positive"),
    (["-eps_scaling", "-eps_scaling_inner_atol", "1e-12"], "must not be below -atol"),
    (["-sinkhorn_stall_it", "-1"], "-sinkhorn_stall_it must be >= 0"),
    (["-sinkhorn_stored_kernel", "maybe"], "unknown value 'maybe'"),
    (["-sinkhorn_stored_kernel_max_mb", "-1"], "must be >= 0"),
    (["-solver", "sns", "-sns_sparsify", "all"], "unknown value 'all'"),
    (["-solver", "sns", "-sns_mass_tol", "1"], "-sns_mass_tol must be in [0, 1)"),
    (["-solver", "sns", "-sns_kappa", "0"], "-sns_kappa must be positive"),
    (["-solver", "sns", "-sns_row_k", "0"], "-sns_row_k must be >= 1"),
    (["-solver", "sns", "-sns_ksp_rtol", "2"], "-sns_ksp_rtol must be in (0, 1)"),
    (["-solver", "sns", "-sns_warmup_it", "-1"], "-sns_warmup_it must be >= 0"),
    (["-solver", "sns", "-sns_safeguard", "sometimes"], "unknown value 'sometimes'"),
    (["-solver", "sns", "-sns_ksp_type", "nosuchksp"], "nosuchksp"),
    (["-solver", "sns", "-sns_ksp_rtoll", "1e-3"], "unknown option -sns_ksp_rtoll"),
    (["-sns_warmup_it", "5"], "unknown option -sns_warmup_it"),  # not read by sinkhorn
    (["-solver", "sparse"], "-sparse_k must be given as an integer k >= 1"),
    (["-solver", "sparse", "-sparse_k", "0"], "-sparse_k must be given as an integer k >= 1"),
    (["-solver", "sparse", "-sparse_k", "-2"], "-sparse_k must be given as an integer k >= 1"),
    (["-solver", "sparse", "-sparse_k", "2.5"], "2.5"),
    (["-solver", "sparse", "-sparse_k", "100000000"], "-sparse_k must be <= n ="),
    (["-solver", "sparse", "-sparse_k", "2", "-reg", "0"], "-reg must be positive"),
    (["-solver", "sparse", "-sparse_k", "2", "-reg", "-0.5"], "-reg must be positive"),
    (["-solver", "sparse", "-sparse_k", "2", "-reg", "nan"], "-reg must be positive"),
    (["-solver", "sparse", "-sparse_k", "2", "-sparse_formulation", "primal"],
     "unknown value 'primal'"),
    (["-solver", "sparse", "-sparse_k", "2", "-sparse_tao_type", "nosuchtao"], "nosuchtao"),
    (["-solver", "sparse", "-sparse_k", "2", "-sparse_tao_gatoll", "1"],
     "unknown option -sparse_tao_gatoll"),
    (["-sparse_k", "2"], "unknown option -sparse_k"),  # not read by sinkhorn
    (["-reg_m", "0"], "-reg_m must be positive"),
    (["-reg_m", "-1"], "-reg_m must be positive"),
    (["-reg_m", "nan"], "-reg_m must be positive"),
    (["-reg_m", "abc"], "abc"),
    (["-reg_m_target", "0"], "-reg_m_target must be positive"),
    (["-solver", "sns", "-reg_m", "1"], "-reg_m (unbalanced OT) works with -solver sinkhorn"),
    (["-reg_m", "1", "-ot_rtol", "1e-2"], "near-exact mode (-ot_rtol) is for balanced OT"),
]


if __name__ == "__main__":
    os.makedirs(sys.argv[2], exist_ok=True)
    for name, path, fragment in make_corpus(sys.argv[1], sys.argv[2]):
        print(f"{name:32s} {fragment}")
    for name, argv, fragment, _ in make_sliced_corpus(sys.argv[2]):
        print(f"{name:32s} {fragment}")
    print(f"{len(BAD_OPTIONS)} bad option sets")
