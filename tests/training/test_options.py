"""One option schema (pnetc/training/options.py) drives `pnetc train`/`sweep`, pnetc.train/sweep,
TrainConfig and the checks: each of them is compared with the schema, not with a second list."""

from __future__ import annotations

import dataclasses
import inspect

import pytest
import typer

import pnetc
from pnetc.cli import app
from pnetc.errors import PnetcError
from pnetc.training.config import TrainConfig, resolve
from pnetc.training.options import OPTIONS, for_command, parse


def _command(name: str):
    return typer.main.get_command(app).commands[name]


@pytest.mark.parametrize("command", ["train", "sweep"])
def test_cli_options_are_the_schema(command):
    params = {p.name: p for p in _command(command).params}
    for option in for_command(command):
        if not option.cli:
            assert option.name not in params
            continue
        param = params[option.name]
        flags = {f for spelling in option.cli_flags for f in spelling.split("/")}
        assert set(param.opts) | set(param.secondary_opts) == flags, option.name
        assert param.help == ((command == "sweep" and option.sweep_help) or option.help)
    own = {"train": {"json_out"}, "sweep": {"json_out", "grid_items", "out", "grid", "modes", "force"}}[command]
    assert set(params) == {o.name for o in for_command(command) if o.cli} | own


def test_help_shows_every_flag():
    from typer.testing import CliRunner

    text = CliRunner().invoke(app, ["train", "--help"], terminal_width=200).output
    for option in OPTIONS:
        if option.cli:
            assert option.cli_flags[0].split("/")[0] in text, option.name


@pytest.mark.parametrize("command,func", [("train", pnetc.train), ("sweep", pnetc.sweep)])
def test_api_keywords_are_the_schema(command, func):
    params = inspect.signature(func).parameters
    names = {o.name for o in for_command(command)}
    assert names <= set(params)
    for option in for_command(command):
        assert params[option.name].default == option.default, option.name


def test_train_config_fields_are_the_schema():
    fields = {f.name: f.default for f in dataclasses.fields(TrainConfig)}
    from_schema = {o.config_field: o.config_value(o.default) for o in OPTIONS if o.config_field}
    assert {k: fields[k] for k in from_schema} == from_schema
    assert set(fields) - set(from_schema) == {"mode", "qat_epochs", "extra"}  # set by the code, not by users


def test_an_unknown_keyword_is_refused_before_anything_happens(tmp_path):
    with pytest.raises(PnetcError, match=r"unknown train option 'epoch' \(did you mean 'epochs'\?\)"):
        pnetc.train("digits", out=tmp_path / "t", epoch=3)
    with pytest.raises(PnetcError, match="unknown sweep option 'batch_size'"):
        pnetc.sweep("digits", tmp_path / "s", batch_size=8)  # a train option the sweep does not share
    assert not (tmp_path / "t").exists() and not (tmp_path / "s").exists()


@pytest.mark.parametrize("keywords,needle", [
    ({"epochs": "3"}, "epochs must be an integer"),
    ({"tables": True}, "tables must be an integer"),
    ({"lr": "fast"}, "lr must be a number"),
    ({"fc": [16, "8"]}, "fc must be a list of integers"),
    ({"center": None}, "center may not be None"),
    ({"lambdas": 3}, "lambdas must be"),
])
def test_wrong_types_are_one_line_errors(tmp_path, keywords, needle):
    with pytest.raises(PnetcError, match=needle):
        pnetc.train("digits", out=tmp_path / "t", **keywords)
    assert not (tmp_path / "t").exists()


@pytest.mark.parametrize("field,value,needle", [
    ("tables", -3, "-T must be a positive integer"),
    ("density", 2.0, "--density must be in (0, 1]"),
    ("text_char_max_n", 9, "--char-max-n must be an integer in 0..5"),
    ("seed", -1, "--seed must be in 0.."),
    ("trainer", "transformer", "--trainer must be one of"),
    ("device", "tpu", "--device must be one of"),
])
def test_one_validator_for_given_and_resolved_values(field, value, needle):
    """The same check refuses a value given to pnetc.train and one in a TrainConfig (the sweep's
    grid, the data set's defaults, library callers): one message, from one place."""
    option = next(o for o in OPTIONS if o.config_field == field)
    with pytest.raises(PnetcError) as given:
        parse({option.name: value})
    with pytest.raises(PnetcError) as resolved:
        resolve(TrainConfig(**{field: value}), "image", (8, 8), "digits")
    assert needle in str(given.value) and str(given.value) == str(resolved.value)


def test_parse_fills_defaults_and_converts():
    values = parse({"fc": [0], "lambdas": "1,0,1", "projection_only": True})
    assert values["seed"] == 0 and values["device"] == "auto" and values["out"] is None
    from pnetc.training.options import config_fields

    fields = config_fields(values)
    assert fields["fc"] == [] and fields["lambdas"] == (1.0, 0.0, 1.0) and fields["mode"] == "projection-only"
    assert TrainConfig(**fields).effective_lambdas == (0.0, 0.0, 1.0)


@pytest.mark.parametrize("task,shape,name", [("image", (8, 8), "digits"), ("text", (), "langid")])
def test_a_resolved_config_resolves_again_alike(task, shape, name):
    """The sweep resolves each grid point, then train resolves it again: the second pass must neither
    refuse what the first filled in (text options on image data) nor change it."""
    once = resolve(TrainConfig(), task, shape, name)
    assert resolve(once, task, shape, name) == once
