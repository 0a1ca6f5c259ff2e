"""Batch scoring on one machine: a data file in, a predictions file out
(``runsite models predict``)."""

from __future__ import annotations

import os
from pathlib import Path

from runsite.errors import InvalidInput

OUTPUT_SUFFIXES = (".parquet", ".csv")


def predict_file(
    model_uri: str | os.PathLike[str],
    input_path: str | os.PathLike[str],
    output_path: str | os.PathLike[str],
    store: str | os.PathLike[str] | None = None,
) -> int:
    """Score every row of ``input_path`` (CSV, TSV or Parquet) with the model (hashes
    checked before anything is unpickled) and write the predictions to ``output_path``
    (``.parquet`` or ``.csv``: one ``prediction`` column, ``prediction_0…`` for several
    outputs, or the model's own columns). Returns the number of rows. The whole file is
    read into memory: for data larger than one machine, use ``pyfunc.spark_udf``."""
    from runsite import arrowio
    from runsite.models.api import load_model

    out = Path(output_path)
    if out.suffix.lower() not in OUTPUT_SUFFIXES:
        raise InvalidInput(f"--output {out}: give a .parquet or .csv file name")
    if not out.parent.is_dir():
        raise InvalidInput(f"--output {out}: folder {out.parent} does not exist")
    table = arrowio.read_data(Path(input_path))
    model = load_model(model_uri, store)
    preds = model.predict(arrowio.table_frame(table))
    result = arrowio.predictions_table(preds)
    if result.num_rows != table.num_rows:
        raise InvalidInput(
            f"the model gave {result.num_rows} predictions for {table.num_rows} rows of "
            f"{input_path}; nothing written"
        )
    arrowio.write_table(result, out)
    return result.num_rows
