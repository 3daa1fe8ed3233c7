"""Generate TinyTalks, the course's own small question-and-answer corpus (datasets/tinytalks/).

    python datasets/tinytalks/make_tinytalks.py              # writes into this folder
    python datasets/tinytalks/make_tinytalks.py --out DIR    # anywhere else

Pure standard library and fully deterministic: every "random" choice (a phrasing, a name,
the split of a group) is read from the sha256 of a fixed seed string and a key naming the
choice, so the same bytes come out on every machine and every Python version; the
`random` module is not used. The sha256 of each output is recorded below and in
datasets/README.md. See DATASHEET.md for what is in the corpus and why.

Outputs: train.txt, val.txt, test.txt (blocks "Q: ...\\nA: ...\\n" separated by a blank
line) and index.tsv (split, level, question, answer: one row per block, in file order).

Splits. Every pair belongs to a group: the pairs that share a fact (both orders of an
addition, "the day after Monday" and "the day before Tuesday" and "if today is Monday, what
day is tomorrow?", a word problem and the sum with the same numbers). Groups belong to
families (all additions, all capitals, ...). In each family the groups are ranked by hash;
the first round(n / 10) go to val, the next round(n / 10) to test, the rest to train (half
rounds up; a family of fewer than five groups stays in train). In the arithmetic families
(sums, differences, products, with their word problems) a group is passed over, and stays in
train, if holding it out would leave its answer nowhere in the family's training pairs (six
times six is the only way to make thirty-six). So no question, and no fact, is in two
splits; in arithmetic, val and test ask operand combinations that train never asks, in
either order, and every answer they expect is also an answer in train.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED = "tinytalks-1"
SPLITS = ("train", "val", "test")
LEVELS = {
    1: "greetings and small talk",
    2: "simple facts",
    3: "arithmetic in words",
    4: "short reasoning",
}
# Every character of every question and answer, and of the three text files.
VOCABULARY = "\n !',-.:?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

# What the generator must produce, byte for byte (also in datasets/README.md).
OUTPUT_SHA256 = {
    "train.txt": "827f2f8220b5e5374427bd6f1e534cd8b1f8c11ea9e707bfde21d7a7f4349967",
    "val.txt": "2b6f9b08113eb45b214205da3bf914540ef9e441e8dfa3038987f243abe1e603",
    "test.txt": "2f645793858d356c48bc00f4fbcecd29b7faaf23a3e9aa4b292e12b27b978d2a",
    "index.tsv": "895de07b09c746fea2338c0257053ad5c78777d9f4c98da87225c0908dbbcc8e",
}


@dataclass(frozen=True)
class Pair:
    level: int
    family: str  # groups of one family are split together, in proportion
    group: str  # pairs of one group always land in the same split
    question: str
    answer: str


def _hash(key: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{SEED}:{key}".encode()).digest()[:8], "big")


def pick(options, key: str):
    return options[_hash(key) % len(options)]


# --- words -----------------------------------------------------------------------------------

ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
).split()
TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def number_word(n: int) -> str:
    """0..99 in words: "seven", "twenty", "thirty-six"."""
    if not 0 <= n < 100:
        raise ValueError(n)
    if n < 20:
        return ONES[n]
    tens, ones = divmod(n, 10)
    return TENS[tens] + ("-" + ONES[ones] if ones else "")


def number_value(word: str) -> int:
    """Inverse of number_word (any case)."""
    return [number_word(n) for n in range(100)].index(word.lower())


def cap(text: str) -> str:
    return text[0].upper() + text[1:]


def a_or_an(noun: str) -> str:
    return ("an " if noun[0] in "aeiou" else "a ") + noun


NAMES = (
    "Sam Mia Tom Ann Leo Zoe Max Eva Ben Lily Noah Emma Jack Ella Omar Nina Ravi Sara Theo "
    "Amir Ivy Hugo Yuki Lena"
).split()
DAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()
MONTHS = (
    "January February March April May June July August September October November December"
).split()
SEASONS = "winter spring summer autumn".split()


# --- level 1: greetings and small talk -------------------------------------------------------

CHAT = (
    ("Hello!", "Hello! How can I help you?"),
    ("Hi!", "Hi there! How are you?"),
    ("Hey!", "Hey! What can I do for you?"),
    ("Good morning!", "Good morning! I hope you slept well."),
    ("Good afternoon!", "Good afternoon! How is your day going?"),
    ("Good evening!", "Good evening! It is nice to hear from you."),
    ("Good night.", "Good night! Sleep well."),
    ("How are you?", "I am fine, thank you. How are you?"),
    ("How are you doing today?", "I am doing well, thanks for asking."),
    ("What is your name?", "My name is Tiny."),
    ("Who are you?", "I am Tiny, a small program that answers questions."),
    ("How old are you?", "I am very new. I was made this year."),
    ("Are you a robot?", "I am a small computer program."),
    ("Where do you live?", "I live inside a computer."),
    ("What can you do?", "I can answer simple questions."),
    ("Can you help me?", "Yes, I can try. What do you need?"),
    ("Thank you!", "You are welcome!"),
    ("Thanks a lot.", "You are very welcome."),
    ("Goodbye!", "Goodbye! See you soon."),
    ("See you later.", "See you later! Take care."),
    ("Bye for now.", "Bye! Come back any time."),
    ("Nice to meet you.", "Nice to meet you too."),
    ("Sorry.", "That is all right."),
    ("Excuse me.", "Yes? How can I help?"),
    ("Good job!", "Thank you! I am glad it helped."),
    ("I like you.", "Thank you, that is kind of you."),
    ("Are you there?", "Yes, I am here."),
    ("Do you like music?", "Yes, I like music very much."),
    ("Can you sing?", "No, I cannot sing, but I can talk."),
    ("Do you sleep?", "No, I do not sleep."),
    ("Are you happy?", "Yes, I am happy to talk with you."),
    ("What do you like?", "I like words and good questions."),
    ("How is the weather?", "I cannot see outside, but I hope it is nice."),
    ("Have a nice day!", "Thank you, you too!"),
    ("Happy birthday!", "Thank you! That is very kind."),
    ("Welcome back!", "Thank you! It is good to be back."),
    ("What is new?", "Not much. What is new with you?"),
    ("Can we talk?", "Of course. What would you like to talk about?"),
)
FEELINGS = (
    ("happy", "That is great to hear!"),
    ("sad", "I am sorry to hear that. I hope you feel better soon."),
    ("tired", "Maybe you should rest for a while."),
    ("hungry", "Maybe it is time for a snack."),
    ("cold", "Put on a warm jumper."),
    ("bored", "Let us talk about something fun."),
    ("sleepy", "It may be time to go to bed."),
    ("excited", "How nice! What are you excited about?"),
    ("scared", "Do not worry, you are safe."),
    ("sick", "I am sorry. I hope you get well soon."),
)
MEET = (
    ("Hello, I am {n}.", "Hello, {n}! Nice to meet you."),
    ("Hi, my name is {n}.", "Hi, {n}! It is nice to meet you."),
    ("Good morning, I am {n}.", "Good morning, {n}! How are you today?"),
    ("Hey, I'm {n}.", "Hey, {n}! Good to meet you."),
)


def level1() -> list[Pair]:
    pairs = [Pair(1, "chat", f"chat:{q}", q, a) for q, a in CHAT]
    for feeling, answer in FEELINGS:
        q = pick(("I am {f}.", "I feel {f}.", "I am feeling {f}."), f"feel:{feeling}")
        pairs.append(Pair(1, "feel", f"feel:{feeling}", q.format(f=feeling), answer))
    for name in NAMES:
        q, a = pick(MEET, f"meet:{name}")
        pairs.append(Pair(1, "meet", f"meet:{name}", q.format(n=name), a.format(n=name)))
    return pairs


# --- level 2: simple facts -------------------------------------------------------------------

COLOURS = (
    ("the sky", "blue"),
    ("grass", "green"),
    ("snow", "white"),
    ("a banana", "yellow"),
    ("a lemon", "yellow"),
    ("a strawberry", "red"),
    ("coal", "black"),
    ("a carrot", "orange"),
    ("milk", "white"),
    ("a ripe tomato", "red"),
    ("a frog", "green"),
    ("a crow", "black"),
    ("chocolate", "brown"),
    ("a cherry", "red"),
    ("a plum", "purple"),
    ("a pig", "pink"),
    ("an elephant", "grey"),
    ("the sea", "blue"),
    ("a cucumber", "green"),
    ("a polar bear", "white"),
)
SOUNDS = (
    ("cow", "moo"),
    ("dog", "woof"),
    ("cat", "meow"),
    ("sheep", "baa"),
    ("duck", "quack"),
    ("pig", "oink"),
    ("owl", "hoot"),
    ("lion", "roar"),
    ("horse", "neigh"),
    ("frog", "croak"),
    ("bee", "buzz"),
    ("mouse", "squeak"),
    ("snake", "hiss"),
    ("hen", "cluck"),
    ("donkey", "hee-haw"),
)
BABIES = (
    ("cat", "kitten"),
    ("dog", "puppy"),
    ("cow", "calf"),
    ("sheep", "lamb"),
    ("horse", "foal"),
    ("duck", "duckling"),
    ("frog", "tadpole"),
    ("hen", "chick"),
    ("pig", "piglet"),
    ("bear", "cub"),
    ("goat", "kid"),
    ("kangaroo", "joey"),
)
COUNTS = (
    ("How many legs does a spider have?", 8),
    ("How many legs does a dog have?", 4),
    ("How many legs does a bird have?", 2),
    ("How many legs does an ant have?", 6),
    ("How many legs does a horse have?", 4),
    ("How many legs does a hen have?", 2),
    ("How many legs does a beetle have?", 6),
    ("How many legs does an octopus have?", 8),
    ("How many sides does a triangle have?", 3),
    ("How many sides does a square have?", 4),
    ("How many sides does a pentagon have?", 5),
    ("How many sides does a hexagon have?", 6),
    ("How many sides does an octagon have?", 8),
    ("How many days are in a week?", 7),
    ("How many months are in a year?", 12),
    ("How many hours are in a day?", 24),
    ("How many minutes are in an hour?", 60),
    ("How many seasons are in a year?", 4),
    ("How many fingers are on one hand?", 5),
    ("How many wheels does a bicycle have?", 2),
)
OPPOSITES = (
    ("hot", "cold"),
    ("big", "small"),
    ("up", "down"),
    ("fast", "slow"),
    ("happy", "sad"),
    ("day", "night"),
    ("open", "closed"),
    ("full", "empty"),
    ("wet", "dry"),
    ("hard", "soft"),
    ("early", "late"),
    ("loud", "quiet"),
    ("left", "right"),
    ("in", "out"),
    ("good", "bad"),
    ("strong", "weak"),
    ("near", "far"),
    ("first", "last"),
    ("push", "pull"),
    ("win", "lose"),
    ("clean", "dirty"),
    ("yes", "no"),
    ("inside", "outside"),
    ("above", "below"),
)
CAPITALS = (
    ("France", "Paris"),
    ("Italy", "Rome"),
    ("Spain", "Madrid"),
    ("Germany", "Berlin"),
    ("Japan", "Tokyo"),
    ("England", "London"),
    ("Egypt", "Cairo"),
    ("Greece", "Athens"),
    ("Russia", "Moscow"),
    ("Canada", "Ottawa"),
    ("Kenya", "Nairobi"),
    ("Peru", "Lima"),
    ("Norway", "Oslo"),
    ("Ireland", "Dublin"),
    ("Portugal", "Lisbon"),
    ("China", "Beijing"),
)


def level2() -> list[Pair]:
    pairs = []
    for thing, colour in COLOURS:
        group = f"colour:{thing}"
        pairs.append(Pair(2, "colour", group, f"What colour is {thing}?", f"{cap(colour)}."))
    for animal, sound in SOUNDS:
        q = pick(("What sound does {x} make?", "What does {x} say?"), f"sound:{animal}")
        a = f"{cap(a_or_an(animal))} says {sound}."
        pairs.append(Pair(2, "sound", f"sound:{animal}", q.format(x=a_or_an(animal)), a))
    for animal, baby in BABIES:
        q = f"What is a baby {animal} called?"
        pairs.append(Pair(2, "baby", f"baby:{animal}", q, f"{cap(a_or_an(baby))}."))
    for question, n in COUNTS:
        pairs.append(Pair(2, "count", f"count:{question}", question, f"{cap(number_word(n))}."))
    for x, y in OPPOSITES:  # both directions, one group
        for a, b in ((x, y), (y, x)):
            q = f"What is the opposite of {a}?"
            pairs.append(Pair(2, "opposite", f"opposite:{x}", q, f"{cap(b)}."))
    for country, city in CAPITALS:
        group = f"capital:{country}"
        pairs.append(Pair(2, "capital", group, f"What is the capital of {country}?", f"{city}."))
        q = f"{city} is the capital of which country?"
        pairs.append(Pair(2, "capital", group, q, f"{country}."))
    for i, day in enumerate(DAYS):  # group: this day and the next
        nxt = DAYS[(i + 1) % 7]
        group = f"day:{day}"
        pairs.append(Pair(2, "day", group, f"What day comes after {day}?", f"{nxt}."))
        pairs.append(Pair(2, "day", group, f"What day comes before {nxt}?", f"{day}."))
    for i, month in enumerate(MONTHS):
        nxt = MONTHS[(i + 1) % 12]
        group = f"month:{month}"
        pairs.append(Pair(2, "calendar", group, f"What month comes after {month}?", f"{nxt}."))
        pairs.append(Pair(2, "calendar", group, f"What month comes before {nxt}?", f"{month}."))
    for i, season in enumerate(SEASONS):
        nxt = SEASONS[(i + 1) % 4]
        group = f"season:{season}"
        q = f"What season comes after {season}?"
        pairs.append(Pair(2, "calendar", group, q, f"{cap(nxt)}."))
    return pairs


# --- level 3: arithmetic in words ------------------------------------------------------------

OPERATIONS = {
    # name: (operand pairs, result, commutative)
    "plus": ([(a, b) for a in range(1, 10) for b in range(1, 10)], lambda a, b: a + b, True),
    "minus": ([(a, b) for a in range(1, 11) for b in range(1, a + 1)], lambda a, b: a - b, False),
    "times": ([(a, b) for a in range(1, 7) for b in range(1, 7)], lambda a, b: a * b, True),
}


ARITHMETIC = frozenset(OPERATIONS)  # families whose held-out answers must occur in train


def arithmetic_group(op: str, a: int, b: int) -> str:
    """Both orders of a commutative operation share a group (so a split)."""
    if OPERATIONS[op][2]:
        a, b = min(a, b), max(a, b)
    return f"{op}:{a},{b}"


def level3() -> list[Pair]:
    pairs = []
    for op, (operands, result, _) in OPERATIONS.items():
        for a, b in operands:
            stem = pick(("What is", "How much is"), f"ask:{op}:{a},{b}")
            q = f"{stem} {number_word(a)} {op} {number_word(b)}?"
            answer = f"{cap(number_word(result(a, b)))}."
            pairs.append(Pair(3, op, arithmetic_group(op, a, b), q, answer))
    return pairs


# --- level 4: short reasoning ----------------------------------------------------------------

SIZES = ("ant", "mouse", "cat", "dog", "horse", "elephant", "whale")  # small to big
RELATIONS = (("taller", "shorter"), ("older", "younger"), ("faster", "slower"))
OBJECTS = ("apples", "sweets", "books", "pencils", "marbles", "stickers", "cards", "shells")


def plural(n: int, things: str) -> str:
    """ "one apple", "three apples" (every noun of OBJECTS has a plain -s plural)."""
    return f"{number_word(n)} {things[:-1] if n == 1 else things}"


def n_more(n: int, things: str) -> str:
    """ "one more apple", "three more apples"."""
    return f"{number_word(n)} more {things[:-1] if n == 1 else things}"


def level4() -> list[Pair]:
    pairs = []
    for a in range(1, 11):  # comparing numbers
        for b in range(a + 1, 11):
            group = f"compare:{a},{b}"
            x, y = pick(((a, b), (b, a)), f"order:{group}")
            wx, wy = number_word(x), number_word(y)
            kind = pick(("bigger", "smaller", "more"), f"kind:{group}")
            if kind == "more":
                q = f"Is {wx} more than {wy}?"
                ans = f"Yes, {wx} is more than {wy}." if x > y else f"No, {wx} is less than {wy}."
            else:
                q = f"Which is {kind}, {wx} or {wy}?"
                ans = f"{cap(number_word(max(x, y) if kind == 'bigger' else min(x, y)))}."
            pairs.append(Pair(4, "compare", group, q, ans))
    for i, small in enumerate(SIZES):  # comparing sizes
        for big in SIZES[i + 1 :]:
            group = f"size:{small},{big}"
            x, y = pick(((small, big), (big, small)), f"order:{group}")
            kind = pick(("bigger", "smaller"), f"kind:{group}")
            q = f"Which is {kind}, {a_or_an(x)} or {a_or_an(y)}?"
            ans = f"{cap(a_or_an(big if kind == 'bigger' else small))}."
            pairs.append(Pair(4, "size", group, q, ans))
    for first, second in zip(NAMES[0::2], NAMES[1::2], strict=True):  # one relation, asked back
        for more, less in RELATIONS:
            group = f"relation:{first},{second},{more}"
            said = pick(
                (f"{first} is {more} than {second}.", f"{second} is {less} than {first}."),
                f"said:{group}",
            )
            ask = pick((more, less), f"ask:{group}")
            q = f"{said} Who is {ask}?"
            pairs.append(Pair(4, "relation", group, q, f"{first if ask == more else second}."))
    for i, day in enumerate(DAYS):  # same groups as "What day comes after ...?"
        nxt = DAYS[(i + 1) % 7]
        q = f"If today is {day}, what day is tomorrow?"
        pairs.append(Pair(4, "day", f"day:{day}", q, f"{nxt}."))
        q = f"If today is {nxt}, what day was yesterday?"
        pairs.append(Pair(4, "day", f"day:{day}", q, f"{day}."))
    for a in range(1, 10):  # word problems: same groups as the sums and differences
        for b in range(a, 10):
            group = arithmetic_group("plus", a, b)
            if _hash(f"story:{group}") % 2:
                continue
            x, y = pick(((a, b), (b, a)), f"order:{group}")
            who, other = pick(NAMES, f"who:{group}"), pick(NAMES, f"other:{group}")
            if other == who:
                other = NAMES[(NAMES.index(who) + 1) % len(NAMES)]
            things = pick(OBJECTS, f"things:{group}")
            q = (
                f"{who} has {plural(x, things)}. {other} gives {who} {n_more(y, things)}. "
                f"How many {things} does {who} have now?"
            )
            pairs.append(Pair(4, "plus", group, q, f"{cap(number_word(x + y))}."))
    for a in range(2, 11):
        for b in range(1, a):
            group = arithmetic_group("minus", a, b)
            if _hash(f"story:{group}") % 2:
                continue
            who, things = pick(NAMES, f"who:{group}"), pick(OBJECTS, f"things:{group}")
            verb = pick(("gives away", "loses"), f"verb:{group}")
            q = (
                f"{who} has {plural(a, things)} and {verb} {number_word(b)}. "
                f"How many {things} does {who} have left?"
            )
            pairs.append(Pair(4, "minus", group, q, f"{cap(number_word(a - b))}."))
    return pairs


# --- splits and files ------------------------------------------------------------------------


def generate() -> list[Pair]:
    pairs = level1() + level2() + level3() + level4()
    seen = set()
    for p in pairs:
        if p.question in seen:
            raise ValueError(f"question asked twice: {p.question!r}")
        seen.add(p.question)
        outside = set(p.question + p.answer) - set(VOCABULARY)
        if outside or "\n" in p.question + p.answer:
            raise ValueError(f"outside the vocabulary in {p!r}: {sorted(outside)!r}")
    return pairs


def assign_splits(pairs: list[Pair]) -> dict[str, str]:
    """group -> split, family by family (see the module docstring)."""
    families: dict[str, list[str]] = {}
    owner: dict[str, str] = {}
    answers: dict[str, set[str]] = {}  # group -> its answers
    for p in pairs:
        if owner.setdefault(p.group, p.family) != p.family:
            raise ValueError(f"group {p.group!r} in families {owner[p.group]!r}, {p.family!r}")
        if p.group not in families.setdefault(p.family, []):
            families[p.family].append(p.group)
        answers.setdefault(p.group, set()).add(p.answer)
    split_of = {}
    for family, groups in families.items():
        ranked = sorted(groups, key=lambda g: (_hash(f"split:{g}"), g))
        quota = (len(ranked) + 5) // 10 if len(ranked) >= 5 else 0
        held: list[str] = []
        for group in ranked:
            if len(held) == 2 * quota:
                break
            if family in ARITHMETIC and not all(
                any(a in answers[g] for g in groups if g != group and g not in held)
                for a in answers[group]
            ):
                continue  # its answer must stay in train (six times six: thirty-six)
            held.append(group)
        for group in groups:
            split_of[group] = "train"
        for rank, group in enumerate(held):
            split_of[group] = "val" if rank < quota else "test"
    return split_of


def split_pairs(pairs: list[Pair]) -> dict[str, list[Pair]]:
    """The pairs of each split, in a fixed hash order (levels mixed)."""
    split_of = assign_splits(pairs)
    out = {name: [] for name in SPLITS}
    for p in sorted(pairs, key=lambda p: (_hash(f"order:{p.question}"), p.question)):
        out[split_of[p.group]].append(p)
    return out


def render(pairs: list[Pair]) -> str:
    return "\n".join(f"Q: {p.question}\nA: {p.answer}\n" for p in pairs)


def build() -> dict[str, bytes]:
    """The output files, name -> bytes."""
    splits = split_pairs(generate())
    files = {f"{name}.txt": render(splits[name]).encode("ascii") for name in SPLITS}
    rows = ["split\tlevel\tquestion\tanswer"]
    for name in SPLITS:
        rows += [f"{name}\t{p.level}\t{p.question}\t{p.answer}" for p in splits[name]]
    files["index.tsv"] = ("\n".join(rows) + "\n").encode("ascii")
    return files


def counts(splits: dict[str, list[Pair]]) -> dict[tuple[int, str], int]:
    table = {(level, name): 0 for level in LEVELS for name in SPLITS}
    for name, pairs in splits.items():
        for p in pairs:
            table[p.level, name] += 1
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate TinyTalks.")
    parser.add_argument("--out", type=Path, default=HERE, help="where to write (default: here)")
    args = parser.parse_args(argv)
    files = build()
    args.out.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (args.out / name).write_bytes(data)
        same = "as recorded" if OUTPUT_SHA256[name] == hashlib.sha256(data).hexdigest() else "NEW"
        print(f"{name}: {len(data):,} bytes, sha256 {hashlib.sha256(data).hexdigest()} ({same})")
    table = counts(split_pairs(generate()))
    print("level | " + " | ".join(SPLITS) + " | total")
    for level in LEVELS:
        row = [table[level, name] for name in SPLITS]
        print(f"{level} | " + " | ".join(map(str, row)) + f" | {sum(row)}")
    totals = [sum(table[level, name] for level in LEVELS) for name in SPLITS]
    print("all | " + " | ".join(map(str, totals)) + f" | {sum(totals)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
