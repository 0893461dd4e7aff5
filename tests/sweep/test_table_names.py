"""Sweep tables name their measures; tables written before the names existed still read."""

from __future__ import annotations

import math

import pyarrow as pa
import pyarrow.parquet as pq

from landscape.sweep.table import format_summary, normalise, read_table, summarise


def test_old_tables_are_read_under_the_new_names(tmp_path):
    # before: the oracle was "best_clean_score" and its ratio to the best reference "relative_activation"
    pq.write_table(pa.table({"key": ["a"], "best_clean_score": [3.0], "relative_activation": [1.5],
                             "source_best_clean_score": [3.0]}), tmp_path / "t.parquet")
    (row,) = read_table(tmp_path / "t.parquet")
    assert row["best_clean_ever"] == 3.0 and row["source_best_clean_ever"] == 3.0
    assert row["best_clean_ever_over_reference"] == 1.5 and math.isnan(row["relative_activation"])
    assert "best_clean_score" not in row


def test_summary_is_labelled_with_the_measures_and_the_reference_set():
    rows = [{"generator": "g", "unit": "u", "noise": "none", "model": "m", "layer": "l", "optimizer": o,
             "best_clean_ever": b, "relative_activation": ra, "reference_set": "cifar", "n_reference_images": 40}
            for o, b, ra in (("ga", 2.0, 1.0), ("cma", 4.0, 3.0))]
    summary = summarise(normalise(rows), "ga")
    assert [s["mean_normalised_score"] for s in summary] == [0.5, 1.0]
    assert summary[1]["ratio_to_reference"] == 2.0 and summary[1]["reference_set"] == "cifar (40)"
    text = format_summary(summary)
    assert "normalised score (ActMax)" in text and "relative activation (XDream" in text and "cifar (40)" in text
