from hypothesis import given
from hypothesis import strategies as st

from redline.guard.stream import WordRechunker, word_chunks

TEXT = st.text(alphabet=st.sampled_from("ab é\n\t-"), max_size=300)


def words_of(pieces: list[str]) -> list[str]:
    return "".join(pieces).split()


@given(TEXT, st.integers(1, 40))
def test_word_chunks_rejoin_and_never_split_a_word(text: str, size: int) -> None:
    pieces = list(word_chunks(text, size))
    assert "".join(pieces) == text
    for piece in pieces[:-1]:
        assert piece[-1].isspace()  # every cut is right after whitespace


@given(st.lists(TEXT, max_size=20), st.integers(1, 40))
def test_rechunker_releases_whole_words_in_order(pieces: list[str], size: int) -> None:
    rechunker = WordRechunker(size)
    out: list[str] = []
    for piece in pieces:
        out += rechunker.feed(piece)
        assert all(chunk[-1].isspace() for chunk in out)
    out += rechunker.flush()
    assert "".join(out) == "".join(pieces)
