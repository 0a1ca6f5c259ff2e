"""PySpark in local mode (Debian's Java 17) on a store: Spark reads the metric Parquet
files straight from the run folders, and runsite.pyfunc.spark_udf scores a DataFrame.

One SparkSession for the whole module: starting the JVM is most of the cost."""

from __future__ import annotations

import math
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

import runsite
from runsite import sql

pytestmark = pytest.mark.slow

pyspark = pytest.importorskip("pyspark")
pytest.importorskip("duckdb")
if shutil.which("java") is None:  # pragma: no cover - CI installs Java (.ci/run)
    pytest.skip("PySpark needs Java (openjdk-17-jre-headless)", allow_module_level=True)


@pytest.fixture(scope="module")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", os.sys.executable)  # type: ignore[attr-defined]
    session = (
        SparkSession.builder.master("local[2]")
        .appName("runsite-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.local.dir", str(tmp_path_factory.mktemp("spark-local")))
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def test_spark_reads_the_metric_parquet_files_directly(spark: object, store: Path) -> None:
    from pyspark.sql import functions as F

    runsite.set_experiment("taxi")
    for i in range(4):
        with runsite.start_run(run_name=f"r{i}", log_git=False):
            for step in range(20):
                runsite.log_metric("loss", 1.0 / (step + 1 + i), step=step)
            runsite.log_metric("acc", math.nan if i == 3 else i / 4)
    # The example of docs/storage.md, verbatim apart from the store path.
    points = spark.read.parquet(f"{store}/*/*/metrics.parquet").withColumn(  # type: ignore[attr-defined]
        "run_id", F.element_at(F.split(F.col("_metadata.file_path"), "/"), -2)
    )
    got = {
        (r["run_id"], r["key"]): (r["n"], r["lo"], r["last_step"])
        for r in points.groupBy("run_id", "key")
        .agg(F.count("*").alias("n"), F.min("value").alias("lo"), F.max("step").alias("last_step"))
        .collect()
    }
    expected = {
        (r["run_id"], r["key"]): (r["n"], r["lo"], r["last_step"])
        for r in sql.rows(
            sql.query(
                "SELECT run_id, key, count(*) AS n, min(value) AS lo, max(step) AS last_step "
                "FROM metrics GROUP BY ALL",
                store,
            )
        )
    }
    assert len(got) == 8
    nan_keys = {k for k, v in expected.items() if isinstance(v[1], float) and math.isnan(v[1])}
    assert len(nan_keys) == 1  # Spark and DuckDB agree that min over [NaN] is NaN
    assert {k: v for k, v in got.items() if k not in nan_keys} == {
        k: v for k, v in expected.items() if k not in nan_keys
    }
    assert all(math.isnan(got[k][1]) for k in nan_keys)
    # and with the record: every point of every run, types as docs/format.md says
    recs = {r.run_id: r for r in runsite.Store(store).runs()}
    for (run_id, key), (n, _, last_step) in got.items():
        assert recs[run_id].metrics[key]["count"] == n
        assert recs[run_id].metrics[key]["last_step"] == last_step
    assert dict(points.dtypes) == {
        "key": "string",
        "step": "bigint",
        "timestamp": "bigint",
        "value": "double",
        "run_id": "string",
    }


def _worker_dirs(spark: object, digest: str) -> list[Path]:
    """The folders Python workers extracted the model with this hash into."""
    from pyspark import SparkFiles

    return sorted(Path(SparkFiles.getRootDirectory()).glob(f"runsite-model-{digest[7:19]}-*"))


def test_spark_udf_scores_as_the_model_does_loading_it_once_per_worker(
    spark: object, store: Path
) -> None:
    pd = pytest.importorskip("pandas")
    Ridge = pytest.importorskip("sklearn.linear_model").Ridge
    from pyspark.sql import functions as F

    from runsite.pyfunc import spark_udf

    X = pd.DataFrame({"a": [float(i) for i in range(20)], "b": [float(i % 3) for i in range(20)]})
    y = 2 * X["a"] - X["b"]
    runsite.set_experiment("taxi")
    with runsite.start_run(log_git=False):
        info = runsite.log_model(Ridge(alpha=0.1).fit(X, y), "model", input_example=X.head(3))
    runsite.register_model(info.model_uri, "taxi")
    runsite.set_model_stage("taxi", 1, "production")
    expected = runsite.load_model("models:/taxi/production").predict(X)

    df = spark.createDataFrame(X).repartition(8)  # type: ignore[attr-defined]
    predict = spark_udf(spark, "models:/taxi/production")
    scored = df.select(
        "a",
        "b",
        predict("a", "b").alias("by_position"),
        predict(F.struct("b", "a")).alias("by_struct"),  # a struct passes its field names
        predict().alias("by_signature"),
    ).toPandas()
    assert df.rdd.getNumPartitions() == 8
    scored = scored.sort_values("a").reset_index(drop=True)
    for col in ("by_position", "by_struct", "by_signature"):
        assert scored[col].to_numpy() == pytest.approx(expected), col
    # one load per Python worker process (each extracts the shipped copy once, into a
    # folder named with its pid), not one per batch: 8 partitions × 3 columns here
    pids = [d.name.split("-")[3] for d in _worker_dirs(spark, predict.model_hash)]
    assert pids and len(pids) == len(set(pids)) and len(pids) < 8 * 3, pids

    as_strings = spark_udf(spark, info.model_uri, result_type="array<string>")
    row = df.orderBy("a").select(as_strings("a", "b").alias("p")).first()
    assert row is not None and row["p"] == [str(expected[0])]


def test_spark_udf_refuses_a_tampered_copy_on_the_executor(spark: object, store: Path) -> None:
    Ridge = pytest.importorskip("sklearn.linear_model").Ridge
    from pyspark import SparkFiles

    from runsite.pyfunc import spark_udf

    runsite.set_experiment("taxi")
    with runsite.start_run(log_git=False):
        info = runsite.log_model(Ridge(alpha=3.0).fit([[0.0], [1.0]], [0.0, 1.0]), "model")
    predict = spark_udf(spark, info.model_uri)
    shipped = Path(SparkFiles.get(f"runsite-model-{predict.model_hash[7:23]}.zip"))
    import zipfile

    with zipfile.ZipFile(shipped) as zf:
        files = {n: zf.read(n) for n in zf.namelist()}
    files["requirements.txt"] += b"evil==1\n"
    with zipfile.ZipFile(shipped, "w") as zf:
        for n, data in files.items():
            zf.writestr(n, data)
    df = spark.createDataFrame([(1.0,)], ["x"])  # type: ignore[attr-defined]
    with pytest.raises(Exception, match="does not match"):
        df.select(predict("x")).collect()
    with pytest.raises(runsite.InvalidInput, match="env_manager"):
        spark_udf(spark, info.model_uri, env_manager="conda")
