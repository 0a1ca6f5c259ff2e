"""The demo store: `python examples/train.py` regenerates `example_runs/` from scratch.

It plays a small team's three weeks in a throwaway git repository, with one clock
(`runsite.record.set_clock`) so the story spans weeks while it takes seconds:

- **Diabetes progression** (scikit-learn's bundled diabetes data, nothing downloaded),
  shaped like the NYC-taxi course: categorical columns one-hot encoded by a
  `DictVectorizer` logged with every model; linear baselines, ridge and lasso, a random
  forest and gradient boosting with per-iteration curves, XGBoost when installed, a run
  that FAILED (its learning rate diverged) and one made from a dirty tree (an
  uncommitted `params.json`).
- **Gradient boosting sweep**: a parent run with nested child runs over a grid.
- **Tumour classification** (the bundled breast-cancer data), by another person.

The registry is changed through the real CLI (`runsite models register/stage/alias
--reason … --branch …`); promotions are merged as pull requests by a reviewer. Then the
repository's stage history is saved as `example_runs/registry-history.json`
(`runsite models history --json`) and the store is copied to `example_runs/`; the
README builds the demo with `--registry-history example_runs/registry-history.json`.
Nobody's machine is in it: the authors are made up, the repository has no remote, and
the run headers' host, pid and interpreter path are neutralised (`neutralise`).

    python examples/train.py [OUT] [--quick]     # --quick: fewer runs (the tests' variant)
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "example_runs"
START = datetime(2026, 10, 5, 9, 0, tzinfo=UTC)  # a Monday
PEOPLE = {
    "ada": ("Ada Data", "ada@example.com"),  # trains the regressors, opens the PRs
    "lin": ("Lin Chen", "lin@example.com"),  # the classifier
    "grace": ("Grace Review", "grace@example.com"),  # reviews and merges
}
PARAMS = {"random_forest": {"n_estimators": 40, "max_depth": 6}}
# git without this machine's settings (identity, signing, hooks, templates)
GIT_ENV = {
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_TEMPLATE_DIR": "",
}


def main(out: Path = OUT, quick: bool = False) -> None:
    """Play the story in a throwaway repository, then copy its store and history out."""
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "clinic-models"
        project.mkdir()
        shutil.copy(Path(__file__), project / "train.py")
        env = {**os.environ, **GIT_ENV, "RUNSITE_CACHE_DIR": str(Path(tmp) / "cache")}
        env.pop("RUNSITE_STORE", None)
        subprocess.run(["git", "init", "-q", "-b", "main"], cwd=project, env=env, check=True)
        story = [sys.executable, "train.py", "--story", *(["--quick"] if quick else [])]
        subprocess.run(story, cwd=project, env=env, check=True)
        history = subprocess.run(
            [sys.executable, "-m", "runsite", "models", "history", "--json", "--store", "runs"],
            cwd=project,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        if out.exists():
            shutil.rmtree(out)
        shutil.copytree(project / "runs", out)
        (out / "registry-history.json").write_text(history, encoding="utf-8")
    neutralise(out)
    print(f"wrote {out} and {out / 'registry-history.json'}")


# ---------------------------------------------------------------------- the story


class Clock:
    """The demo's one clock: every reading is a little later than the last; ``at``
    jumps to a day and time of the story (never backwards)."""

    def __init__(self) -> None:
        self.ms = int(START.timestamp() * 1000)

    def __call__(self) -> int:
        self.ms += 23
        return self.ms

    def at(self, day: int, hour: int, minute: int = 0) -> None:
        when = START + timedelta(days=day, hours=hour - START.hour, minutes=minute)
        self.ms = max(self.ms, int(when.timestamp() * 1000))

    def later(self, minutes: float) -> None:
        self.ms += int(minutes * 60_000)

    def git_date(self) -> str:
        return datetime.fromtimestamp(self() / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Team:
    """Who is at the keyboard: git commits, the registry CLI and runs (their `user`)."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.act_as("ada")

    def act_as(self, who: str) -> None:
        name, email = PEOPLE[who]
        os.environ.update(
            LOGNAME=who,  # what a run records as its user (getpass reads it first)
            USER=who,
            GIT_AUTHOR_NAME=name,
            GIT_AUTHOR_EMAIL=email,
            GIT_COMMITTER_NAME=name,
            GIT_COMMITTER_EMAIL=email,
        )

    def git(self, *args: str) -> str:
        date = self.clock.git_date()
        os.environ.update(GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date)
        done = subprocess.run(["git", *args], check=True, capture_output=True, text=True)
        return done.stdout.strip()

    def commit(self, message: str, *paths: str) -> None:
        self.git("add", *paths)
        self.git("commit", "-q", "-m", message)

    def runsite(self, *args: str) -> None:
        """A `runsite` command, in this process (so it reads the demo's clock)."""
        from runsite.cli import main as cli

        date = self.clock.git_date()
        os.environ.update(GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date)
        try:
            cli.main(list(args), prog_name="runsite", standalone_mode=False)
        except SystemExit as exc:  # pragma: no cover - a failed command stops the story
            if exc.code:
                raise

    def pull_request(self, number: int, branch: str, title: str) -> None:
        """Grace reviews ``branch`` and merges it as GitHub does."""
        self.clock.later(95)
        self.act_as("grace")
        message = f"Merge pull request #{number} from {branch}\n\n{title}"
        self.git("merge", "-q", "--no-ff", "-m", message, branch)
        self.act_as("ada")

    def direct(self, branch: str) -> None:
        """A change made straight on main (the branch fast-forwarded, no review)."""
        self.git("merge", "-q", "--ff-only", branch)


def records(data: Any) -> list[dict[str, Any]]:
    """Rows as dicts: numeric columns plus categorical ones (like taxi zones)."""
    rows = []
    for x in data.data:
        row = dict(zip(data.feature_names, map(float, x), strict=True))
        row["sex"] = "F" if row.pop("sex") > 0 else "M"
        row["age_band"] = f"band-{min(int((row['age'] + 0.11) / 0.045), 4)}"
        rows.append(row)
    return rows


def write_csv(path: Path, rows: list[dict[str, Any]], y: Any) -> None:
    cols = list(rows[0])
    lines = [",".join([*cols, "target"])]
    lines += [
        ",".join([*(str(r[c]) for c in cols), f"{t:g}"]) for r, t in zip(rows, y, strict=True)
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def plot(y: Any, pred: Any, title: str) -> None:
    import runsite

    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:  # plots are optional: the demo works without matplotlib
        return
    fig, ax = plt.subplots(figsize=(4.5, 4))
    ax.scatter(y, pred, s=10, alpha=0.6)
    lo, hi = float(min(y.min(), pred.min())), float(max(y.max(), pred.max()))
    ax.plot([lo, hi], [lo, hi], color="grey", linewidth=1)
    ax.set_xlabel("actual")
    ax.set_ylabel("predicted")
    ax.set_title(title)
    fig.tight_layout()
    runsite.log_figure(fig, "plots/predicted-vs-actual.png")
    plt.close(fig)


def story(quick: bool) -> None:
    import numpy as np
    from sklearn.datasets import load_breast_cancer, load_diabetes
    from sklearn.ensemble import (
        GradientBoostingClassifier,
        GradientBoostingRegressor,
        RandomForestClassifier,
        RandomForestRegressor,
    )
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import Lasso, LinearRegression, LogisticRegression, Ridge
    from sklearn.metrics import (
        accuracy_score,
        f1_score,
        log_loss,
        mean_absolute_error,
        r2_score,
        roc_auc_score,
    )
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    import runsite
    from runsite import record

    clock = Clock()
    record.set_clock(clock)
    team = Team(clock)

    # day 0: the project starts
    team.runsite("init", ".")
    data = load_diabetes()
    rows, y = records(data), data.target
    cut = int(len(rows) * 0.8)
    train, val = (rows[:cut], y[:cut]), (rows[cut:], y[cut:])
    write_csv(Path("data/train.csv"), *train)
    write_csv(Path("data/validation.csv"), *val)
    Path("params.json").write_text(json.dumps(PARAMS, indent=2) + "\n")
    team.commit(
        "Diabetes progression: training script, data split, runsite store",
        "train.py", "params.json", "data", "runs", ".gitignore", ".gitattributes",
    )  # fmt: skip

    runsite.set_store("runs")
    runsite.set_experiment("Diabetes progression")
    runsite.update_experiment(
        "Diabetes progression",
        description=(
            "Predict disease progression one year after baseline from ten measurements "
            "(scikit-learn's bundled *diabetes* data). Sex and an age band are categorical, "
            "one-hot encoded by a `DictVectorizer` logged with every model."
        ),
        key_metric="rmse",
    )
    dv = DictVectorizer(sparse=False)
    X_train, X_val = dv.fit_transform(train[0]), dv.transform(val[0])
    rmse_of: dict[str, float] = {}
    ids: dict[str, str] = {}

    def rmse(a: Any, b: Any) -> float:
        return float(np.sqrt(np.mean((np.asarray(a) - np.asarray(b)) ** 2)))

    def start(name: str, params: dict[str, Any], family: str, **kw: Any) -> Any:
        clock.later(7)
        run = runsite.start_run(run_name=name, tags={"family": family}, **kw)
        runsite.log_params(params)
        runsite.log_input("data/train.csv", name="train", context="training")
        runsite.log_input("data/validation.csv", name="validation", context="validation")
        return run

    def finish(name: str, model: Any, run: Any) -> None:
        pred = model.predict(X_val)
        scores = {
            "rmse": rmse(val[1], pred),
            "mae": float(mean_absolute_error(val[1], pred)),
            "r2": float(r2_score(val[1], pred)),
        }
        runsite.log_metrics(scores)
        plot(val[1], pred, name)
        runsite.log_model(model, "model", preprocessor=dv, input_example=val[0][:3])
        rmse_of[name], ids[name] = scores["rmse"], run.info.run_id
        clock.later(3)

    # day 0: the first model that works, a random forest (its error per tree)
    clock.at(0, 10, 12)
    forest = PARAMS["random_forest"]
    with start("random-forest", {"model": "random_forest", **forest}, "trees") as run:
        model = RandomForestRegressor(n_estimators=1, warm_start=True, random_state=0)
        model.set_params(max_depth=forest["max_depth"])
        for n in range(1, forest["n_estimators"] + 1):
            model.set_params(n_estimators=n).fit(X_train, train[1])
            runsite.log_metric("val_rmse", rmse(val[1], model.predict(X_val)), step=n)
        finish("random-forest", model, run)
    clock.at(0, 16, 40)
    team.commit("Runs: a first random forest", "runs")

    # day 1: it is registered and staged, straight on main
    clock.at(1, 9, 30)
    team.runsite(
        "models", "register", f"runs:/{ids['random-forest']}/model", "diabetes-regressor",
        "--description", "Disease progression a year after baseline (the clinic pilot).",
        "--branch", "register-forest",
    )  # fmt: skip
    team.direct("register-forest")
    clock.later(20)
    team.runsite(
        "models", "stage", "diabetes-regressor", "1", "staging",
        "--reason", "First model for the clinic pilot: a random forest on one-hot features, "
        f"validation rmse {rmse_of['random-forest']:.1f}.",
        "--branch", "stage-v1",
    )  # fmt: skip
    team.direct("stage-v1")

    # day 2: the promotion goes through review
    clock.at(2, 10, 0)
    team.runsite(
        "models", "stage", "diabetes-regressor", "1", "production",
        "--reason", "The clinic pilot starts Monday and needs a model; the clinical team "
        f"signed off on v1 (validation rmse {rmse_of['random-forest']:.1f}).",
        "--branch", "ada/promote-v1",
    )  # fmt: skip
    team.pull_request(1, "ada/promote-v1", "diabetes-regressor v1 to production")

    # day 2, afternoon: the baselines that should have come first
    clock.at(2, 14, 5)
    with start("linear", {"model": "linear"}, "linear") as run:
        finish("linear", LinearRegression().fit(X_train, train[1]), run)
    for alpha in (0.1,) if quick else (0.1, 1.0):
        for kind, cls in (("ridge", Ridge), ("lasso", Lasso)):
            name = f"{kind}-{alpha}"
            with start(name, {"model": kind, "alpha": alpha}, "linear") as run:
                finish(name, cls(alpha=alpha, max_iter=10_000).fit(X_train, train[1]), run)

    # and plain gradient descent with a learning rate that is far too high
    clock.later(50)
    try:
        with start("gd-lr-2.0", {"model": "gradient_descent", "learning_rate": 2.0}, "linear"):
            X = np.hstack([np.ones((len(X_train), 1)), X_train])
            w = np.zeros(X.shape[1])
            for epoch in range(1, 31):
                w -= 2.0 * X.T @ (X @ w - train[1]) / len(X)
                loss = rmse(train[1], X @ w)
                runsite.log_metric("train_loss", loss, step=epoch)
                if not np.isfinite(loss) or loss > 1e6:
                    raise FloatingPointError(
                        f"training rmse is {loss:.3g} after epoch {epoch}: the learning "
                        "rate 2.0 diverges (try 0.5 or less)"
                    )
    except FloatingPointError:
        pass  # the run is FAILED with the error recorded; the team moves on
    clock.at(2, 17, 30)
    team.commit("Runs: linear baselines", "runs")

    # day 3, afternoon: boosting, train and validation error per stage (one chart)
    clock.at(3, 15, 0)
    for lr in (0.1,) if quick else (0.05, 0.1):
        name = f"gbm-{lr}"
        with start(name, {"model": "gbm", "learning_rate": lr, "max_depth": 3}, "trees") as run:
            model = GradientBoostingRegressor(
                n_estimators=120, learning_rate=lr, max_depth=3, random_state=0
            ).fit(X_train, train[1])
            stages = zip(model.staged_predict(X_train), model.staged_predict(X_val), strict=True)
            for step, (p_train, p_val) in enumerate(stages, 1):
                runsite.log_metrics(
                    {"train_rmse": rmse(train[1], p_train), "val_rmse": rmse(val[1], p_val)},
                    step=step,
                )
            finish(name, model, run)
    team.commit("Runs: gradient boosting", "runs")

    # day 4: a deeper forest tried from an uncommitted params.json (a dirty tree)
    clock.at(4, 11, 20)
    deeper = {"random_forest": {**forest, "max_depth": 12}}
    Path("params.json").write_text(json.dumps(deeper, indent=2) + "\n")
    settings = json.loads(Path("params.json").read_text())["random_forest"]
    with start("random-forest-deep", {"model": "random_forest", **settings}, "trees") as run:
        model = RandomForestRegressor(random_state=0, **settings).fit(X_train, train[1])
        finish("random-forest-deep", model, run)
    team.git("checkout", "--", "params.json")  # no better: the change is dropped
    if not quick:
        try:
            import xgboost as xgb
        except ImportError:
            print("xgboost not installed: skipping the XGBoost run", file=sys.stderr)
        else:
            clock.later(40)
            params = {"model": "xgboost", "max_depth": 3, "eta": 0.1}
            with start("xgboost", params, "trees") as run:
                model = xgb.XGBRegressor(n_estimators=120, max_depth=3, learning_rate=0.1)
                model.fit(X_train, train[1], eval_set=[(X_val, val[1])], verbose=False)
                for step, v in enumerate(model.evals_result()["validation_0"]["rmse"], 1):
                    runsite.log_metric("val_rmse", float(v), step=step)
                finish("xgboost", model, run)
    team.commit("Runs: deeper forest, XGBoost", "runs")

    # day 8: a sweep over boosting, one parent run with a child per point of the grid
    clock.at(8, 9, 45)
    runsite.set_experiment("Boosting sweep")
    runsite.update_experiment(
        "Boosting sweep",
        description="Gradient boosting on the diabetes split: learning rate × depth, "
        "one child run per point, the parent keeps the best.",
        key_metric="rmse",
    )
    grid = [(lr, d) for lr in (0.03, 0.1) for d in ((2, 3) if quick else (2, 3, 4))]
    with runsite.start_run(run_name="sweep-lr-depth", tags={"family": "trees"}):
        runsite.log_params({"grid": f"learning_rate × max_depth ({len(grid)} points)"})
        runsite.log_input("data/train.csv", name="train", context="training")
        for lr, depth in grid:
            name = f"lr-{lr}-depth-{depth}"
            params = {"model": "gbm", "learning_rate": lr, "max_depth": depth}
            with start(name, params, "trees", nested=True) as run:
                model = GradientBoostingRegressor(
                    n_estimators=80, learning_rate=lr, max_depth=depth, random_state=0
                ).fit(X_train, train[1])
                for step, p_val in enumerate(model.staged_predict(X_val), 1):
                    runsite.log_metric("val_rmse", rmse(val[1], p_val), step=step)
                finish(name, model, run)
        best = min((f"lr-{lr}-depth-{d}" for lr, d in grid), key=rmse_of.__getitem__)
        runsite.log_metrics({"rmse": rmse_of[best]})
        runsite.set_tag("best_child", best)
    clock.at(8, 16, 30)
    team.commit("Runs: boosting sweep", "runs")

    # day 9: the simplest model wins; it is registered and staged
    clock.at(9, 9, 15)
    forest_rmse, linear_rmse = rmse_of["random-forest"], rmse_of["linear"]
    others = [n for n in rmse_of if n != "linear"]
    if linear_rmse >= min(rmse_of[n] for n in others):  # the reasons below must stay true
        raise SystemExit(f"the story no longer holds: {sorted(rmse_of.items())}")
    team.runsite(
        "models", "register", f"runs:/{ids['linear']}/model", "diabetes-regressor",
        "--branch", "register-linear",
    )  # fmt: skip
    team.direct("register-linear")
    clock.later(10)
    team.runsite(
        "models", "stage", "diabetes-regressor", "2", "staging",
        "--reason", f"The simplest model wins: linear regression, validation rmse "
        f"{linear_rmse:.1f}, against {forest_rmse:.1f} for v1 in production and "
        f"{rmse_of[best]:.1f} for the best of the boosting sweep ({best}).",
        "--branch", "stage-v2",
    )  # fmt: skip
    team.direct("stage-v2")

    # days 9-10: the classifier, by Lin
    team.act_as("lin")
    clock.at(9, 13, 30)
    runsite.set_experiment("Tumour classification")
    runsite.update_experiment(
        "Tumour classification",
        description="Benign or malignant from 30 features of a cell nucleus image "
        "(scikit-learn's bundled *breast cancer* data); 20 % held out.",
        key_metric="roc_auc",
    )
    cancer = load_breast_cancer()
    Xc, yc = cancer.data, cancer.target
    Xc_train, Xc_val, yc_train, yc_val = train_test_split(
        Xc, yc, test_size=0.2, random_state=7, stratify=yc
    )
    write_csv(
        Path("data/tumours.csv"),
        [dict(zip(cancer.feature_names, map(float, x), strict=True)) for x in Xc],
        yc,
    )
    team.commit("Data: tumour features", "data/tumours.csv")
    auc: dict[str, float] = {}
    classifiers: list[tuple[str, dict[str, Any], Any]] = [
        ("logistic-C1", {"model": "logistic", "C": 1.0}, None),
        ("logistic-C0.1", {"model": "logistic", "C": 0.1}, None),
        ("forest", {"model": "random_forest", "n_estimators": 100}, None),
        ("boosting", {"model": "gbm", "learning_rate": 0.1, "n_estimators": 60}, None),
    ]
    for name, params, _ in classifiers[: 2 if quick else None]:
        clock.later(25)
        with runsite.start_run(run_name=name, tags={"family": params["model"]}) as run:
            runsite.log_params(params)
            runsite.log_input("data/tumours.csv", name="tumours", context="training")
            if params["model"] == "logistic":
                model = make_pipeline(
                    StandardScaler(), LogisticRegression(C=params["C"], max_iter=2_000)
                )
            elif params["model"] == "random_forest":
                model = RandomForestClassifier(n_estimators=100, random_state=0)
            else:
                model = GradientBoostingClassifier(n_estimators=60, random_state=0)
            model.fit(Xc_train, yc_train)
            if params["model"] == "gbm":
                for step, proba in enumerate(model.staged_predict_proba(Xc_val), 1):
                    runsite.log_metric("val_log_loss", float(log_loss(yc_val, proba)), step)
            proba = model.predict_proba(Xc_val)[:, 1]
            pred = (proba > 0.5).astype(int)
            auc[name] = float(roc_auc_score(yc_val, proba))
            runsite.log_metrics(
                {
                    "roc_auc": auc[name],
                    "accuracy": float(accuracy_score(yc_val, pred)),
                    "f1": float(f1_score(yc_val, pred)),
                }
            )
            runsite.log_model(model, "model", input_example=Xc_val[:2])
            ids[name] = run.info.run_id
    clock.at(10, 10, 0)
    team.commit("Runs: tumour classifiers", "runs")
    top = max(auc, key=auc.__getitem__)
    team.runsite(
        "models", "register", f"runs:/{ids[top]}/model", "tumour-classifier",
        "--description", "Benign or malignant, from nucleus features.",
        "--branch", "register-classifier",
    )  # fmt: skip
    team.direct("register-classifier")
    clock.later(15)
    team.runsite(
        "models", "stage", "tumour-classifier", "1", "staging",
        "--reason", f"First classifier: {top}, roc_auc {auc[top]:.3f} on the held-out 20 %; "
        "waiting for the pathology team's review before production.",
        "--branch", "stage-classifier",
    )  # fmt: skip
    team.direct("stage-classifier")
    team.act_as("ada")

    # day 15: after a week in staging, v2 replaces v1 in production (reviewed)
    clock.at(15, 10, 30)
    team.runsite(
        "models", "stage", "diabetes-regressor", "2", "production", "--archive-existing",
        "--reason", f"A week in staging on the pilot's data: v2 keeps its "
        f"{forest_rmse - linear_rmse:.1f} rmse lead over v1, which is archived.",
        "--branch", "ada/promote-v2",
    )  # fmt: skip
    team.pull_request(2, "ada/promote-v2", "diabetes-regressor v2 to production")
    clock.later(30)
    team.runsite(
        "models", "alias", "diabetes-regressor", "champion", "2",
        "--reason", "The clinic's scoring job loads models:/diabetes-regressor@champion.",
        "--branch", "ada/champion-v2",
    )  # fmt: skip
    team.pull_request(3, "ada/champion-v2", "diabetes-regressor@champion → v2")
    record.set_clock(None)


# ---------------------------------------------------------------------- neutralise

# What a run header records about the machine that ran it. The demo is committed and
# published: it says "demo" instead (python examples/train.py --neutralise-only STORE
# applies this to a store already written).
NEUTRAL = {"host": "demo", "pid": 0}


def neutralise(store: Path) -> None:
    """Replace the machine details in every run header of ``store``: host, pid,
    interpreter path, platform string and an absolute entry point. (The user is the
    demo's own: its runs set ``LOGNAME``; the throwaway repository has no remote.)"""
    for header in sorted(store.glob("*/*/run.json")):
        doc = json.loads(header.read_text(encoding="utf-8"))
        doc.update(NEUTRAL)
        entry = doc.get("entry_point")
        if entry and Path(entry).is_absolute():
            doc["entry_point"] = Path(entry).name
        python = doc.get("python") or {}
        if python.get("executable"):
            python["executable"] = "python"
        if python.get("platform"):
            python["platform"] = python["platform"].split("-", 1)[0]
        git = doc.get("git") or {}
        if git.get("remote"):
            git["remote"] = None
        header.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["--neutralise-only"]:
        neutralise(Path(args[1]))
    elif args[:1] == ["--story"]:
        story(quick="--quick" in args)
    else:
        paths = [a for a in args if not a.startswith("--")]
        main(Path(paths[0]) if paths else OUT, quick="--quick" in args)
