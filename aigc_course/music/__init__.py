"""Music as tokens: the chorale chapter's representations, statistics and sound.

- :mod:`~aigc_course.music.keys` — key estimation from pitch classes, transposition;
- :mod:`~aigc_course.music.tokens` — the SATB grid tokens and the event stream;
- :mod:`~aigc_course.music.theory` — music-theory statistics and memorisation;
- :mod:`~aigc_course.music.audio` — a small additive synthesiser, WAV and MIDI files;
- :mod:`~aigc_course.music.plot` — piano rolls.

The data (Bach's chorales from the ``music21`` corpus) is read by
:mod:`aigc_course.data.chorales`; the models are the text chapter's, unchanged.
"""
