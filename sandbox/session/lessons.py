"""Lessons: a shipped session plus the text that says what to try with it.

A lesson is two files side by side: ``NN-name.json``, an ordinary session file, and
``NN-name.lesson.json``, its text (a separate file, because the session reader refuses fields
it does not know)::

    {"format": "backprop-sandbox-lesson", "version": 1,
     "title": "…", "explanation": "…", "steps": ["…", "…"], "question": "…",
     "view": "gradient_health"}

``steps`` holds 2–4 "try this" steps; ``view`` names the view the lesson points at (one of
:data:`VIEWS`).  The text is read as hostile input, with the session reader's typed readers
(:mod:`sandbox.session.json_readers`): size checked first, strict JSON, every field checked.
The shipped lessons are made by ``resources/make_lessons.py``; :func:`sandbox.resources.lessons`
lists them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .json_readers import _Invalid, _dict, _int, _list, _str
from .json_text import loads
from .regular_file import read_regular

LESSON_FORMAT = "backprop-sandbox-lesson"
LESSON_VERSION = 1
#: What a lesson's text file is called: the session's stem + this.
LESSON_SUFFIX = ".lesson.json"
#: A lesson's text is a few paragraphs.
MAX_LESSON_BYTES = 64 * 1024
#: The views a lesson may point at: the loss plot, the gradient-health plot, the output view,
#: the inspector's example focus, and the canvas showing weights or gradients.
VIEWS = ("loss", "gradient_health", "output", "example_focus", "canvas_weights", "canvas_gradients")
MIN_STEPS, MAX_STEPS = 2, 4


class LessonError(ValueError):
    """A lesson cannot be read; the message names the file and the problem."""


@dataclass(frozen=True)
class Lesson:
    """One lesson: its text and where its session file is.

    Attributes
    ----------
    name
        The file stem shared by both files (``03-vanishing-gradients-sigmoid``).
    title, explanation, question
        Text shown in the lessons panel.
    steps
        The numbered "try this" steps, 2–4 of them, without their numbers.
    view
        The view the lesson points at, one of :data:`VIEWS`.
    session_path
        The lesson's session file.
    """

    name: str
    title: str
    explanation: str
    steps: tuple[str, ...]
    question: str
    view: str
    session_path: Path

    def load_run(self):
        """The lesson's session, as a fresh :class:`~sandbox.session.run.TrainingRun`."""
        from .session_file import load  # session_file imports the run: keep this module light

        return load(self.session_path)


def read_lesson(path: str | os.PathLike[str]) -> Lesson:
    """Read a lesson's text file (``NN-name.lesson.json``) and check its session file exists.

    Raises
    ------
    LessonError
        For any problem, naming the file: unreadable, too large, not JSON, a missing, unknown or
        ill-typed field, or no session file beside it.
    """
    path = Path(path)
    if not path.name.endswith(LESSON_SUFFIX):
        raise LessonError(f"{path}: a lesson's file name ends in {LESSON_SUFFIX}")
    try:
        raw = read_regular(path, MAX_LESSON_BYTES)
        doc = loads(raw.decode("utf-8"))
        lesson = _from_document(doc, path)
    except _Invalid as exc:
        raise LessonError(f"{path}: {exc}") from None
    except UnicodeDecodeError:
        raise LessonError(f"{path}: not UTF-8 text") from None
    except (OSError, ValueError) as exc:
        raise LessonError(f"{path}: {getattr(exc, 'strerror', None) or exc}") from None
    if not lesson.session_path.is_file():
        raise LessonError(f"{path}: its session file {lesson.session_path.name} is missing")
    return lesson


def _from_document(doc: object, path: Path) -> Lesson:
    d = _dict(doc, "", ("format", "version", "title", "explanation", "steps", "question", "view"))
    if d["format"] != LESSON_FORMAT:
        raise _Invalid(f"format must be {LESSON_FORMAT!r}")
    version = _int(d["version"], "version", 1, 2**31)
    if version > LESSON_VERSION:
        raise _Invalid(f"lesson version {version} is newer than this app reads ({LESSON_VERSION}); "
                       "update Backprop Sandbox")
    steps = _list(d["steps"], "steps", max_length=MAX_STEPS)
    if len(steps) < MIN_STEPS:
        raise _Invalid(f"steps must have {MIN_STEPS} … {MAX_STEPS} entries, got {len(steps)}")
    texts = {key: _nonempty(d[key], key) for key in ("title", "explanation", "question")}
    stem = path.name[: -len(LESSON_SUFFIX)]
    return Lesson(
        name=stem,
        steps=tuple(_nonempty(s, f"steps[{k}]") for k, s in enumerate(steps)),
        view=_str(d["view"], "view", VIEWS),
        session_path=path.with_name(stem + ".json"),
        **texts,
    )


def _nonempty(value: object, path: str) -> str:
    text = _str(value, path).strip()
    if not text:
        raise _Invalid(f"{path} is empty")
    return text


def lesson_files(folder: str | os.PathLike[str]) -> list[Path]:
    """The lesson text files in ``folder``, sorted by name (none if it is missing)."""
    folder = Path(folder)
    return sorted(folder.glob("*" + LESSON_SUFFIX)) if folder.is_dir() else []


def read_lessons(folder: str | os.PathLike[str]) -> list[Lesson]:
    """Every lesson in ``folder``, sorted by file name.  Raises :class:`LessonError` for the
    first one that cannot be read (the shipped lessons are tested to read)."""
    return [read_lesson(p) for p in lesson_files(folder)]
