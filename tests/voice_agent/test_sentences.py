"""Streaming sentence splitting for sentence-by-sentence synthesis."""

from voice_agent.sentences import SentenceSplitter, split_sentences


def stream(text: str, step: int = 3) -> list[str]:
    splitter = SentenceSplitter()
    out = []
    for i in range(0, len(text), step):
        out += splitter.push(text[i : i + step])
    rest = splitter.flush()
    return out + ([rest] if rest else [])


def test_sentences_come_out_as_soon_as_the_next_one_starts():
    splitter = SentenceSplitter()
    assert splitter.push("Thanks for that. Now, tell me") == ["Thanks for that."]
    assert splitter.push(" about a conflict? Take") == ["Now, tell me about a conflict?"]
    assert splitter.flush() == "Take"


def test_abbreviations_initials_and_numbers_do_not_end_sentences():
    text = "Dr. Smith and J. K. Rowling met at 3.5 p.m. today, e.g. at noon. Was it fun? Yes! So did I. Bye."
    assert stream(text) == [
        "Dr. Smith and J. K. Rowling met at 3.5 p.m. today, e.g. at noon.",
        "Was it fun?",
        "Yes!",
        "So did I.",
        "Bye.",
    ]


def test_closing_quotes_stay_with_their_sentence_and_line_breaks_cut():
    assert split_sentences('He said "go." Then left.\nNext line') == ['He said "go."', "Then left.", "Next line"]


def test_a_run_on_is_cut_at_a_clause_break():
    text = "and then, " * 40
    parts = stream(text)
    assert len(parts) > 1
    assert all(len(p) <= 240 for p in parts)
    assert " ".join(parts).split() == text.split()
