"""dream/cli.py, the command line behind `python gd.py`: options, output folder, errors.
(tests/test_gd.py runs it through gd.py as a user would.)"""
import pytest

from dream import cli


def test_parser_defaults_and_labels():
    args = cli.build_parser().parse_args([])
    assert args.out == cli.DEFAULT_OUT == "out" and args.model == "auto" and args.labels is None
    assert cli.build_parser().parse_args(["--labels", "0, 12 954"]).labels == [0, 12, 954]
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["--labels", "seven"])


def test_run_lists_layers_and_writes_a_class_picture(tmp_path, capsys):
    assert cli.run(["--model", "digits", "--list-layers"]) == 0
    assert "act2\t32 channels" in capsys.readouterr().out
    out = tmp_path / "pictures"
    assert cli.run(["--model", "digits", "--labels", "2", "--iterations", "8", "--out", str(out), "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert (out / "img_2.png").is_file() and f"writing images into {out.resolve()}/" in text
    assert "ANSWER_FOR_LABEL_2:" in text and "RECOGNIZED:" in text


def test_run_errors_are_one_line_messages(tmp_path):
    with pytest.raises(SystemExit, match="gd.py: --iterations must be >= 0"):
        cli.run(["--model", "digits", "--iterations", "-1", "--out", str(tmp_path)])
    with pytest.raises(SystemExit, match=r"gd.py: Settings.lr=-1.0 is invalid"):
        cli.run(["--model", "digits", "--lr", "-1", "--out", str(tmp_path)])
    with pytest.raises(SystemExit, match="unknown layer 'conv9'"):
        cli.run(["--model", "digits", "--layer", "conv9", "--iterations", "1", "--out", str(tmp_path)])
