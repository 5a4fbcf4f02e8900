"""Who and what the functional suite talks about: groups of people, and the attributes said of them.

Everything here is hand-written for this project (no third-party data is copied; the SeeGULL and
HolisticBias files in ``shared/data`` add more groups at run time, see :mod:`srllm_guard.eval.functional`).

A :class:`Group` has the forms a template needs: ``plural`` ("Muslims", "old people"), ``one`` ("a Muslim",
"an old person") and, where English has one, ``adj`` ("Muslim" as in "my Muslim neighbour"). Its ``key`` is
what splits are made on: every spelling of one group shares it (``Asians`` and ``Asian people`` are both
``asian``), so a held-out group is held out in every form.

Attributes come in three kinds: ``NEGATIVE`` traits (an "X are <trait>" sentence about a group is a
stereotype), ``POSITIVE`` traits (used only in denials: "X are not honest" is a stereotype, "X are honest" is
left out of the suite as ambiguous), and ``DEHUMANISING`` nouns. Each is an :class:`Attribute` whose ``kind``
says whether it reads as an adjective ("lazy") or a plural noun ("criminals").
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Group", "Attribute", "GROUPS", "NEGATIVE", "POSITIVE", "DEHUMANISING", "ROLES", "THINGS"]


@dataclass(frozen=True)
class Group:
    key: str
    """Split key, shared by every spelling of the same group."""
    plural: str
    """Plural noun phrase, lower case unless a proper noun: 'women', 'Muslims', 'old people'."""
    one: str
    """Singular with article: 'a woman', 'a Muslim', 'an old person'."""
    adj: str | None
    """Modifier form for 'my {adj} neighbour', or None where English has none."""
    axis: str
    """gender, race, religion, sexuality, age, disability, class, nationality, politics, region."""
    majority: bool = False
    """A dominant or advantaged group (parity must hold for these too)."""


def _g(key: str, plural: str, one: str, adj: str | None, axis: str, majority: bool = False) -> Group:
    return Group(key=key, plural=plural, one=one, adj=adj, axis=axis, majority=majority)


GROUPS: tuple[Group, ...] = (
    # gender
    _g("woman", "women", "a woman", "female", "gender"),
    _g("woman", "ladies", "a lady", None, "gender"),
    _g("man", "men", "a man", "male", "gender", True),
    _g("girl", "girls", "a girl", None, "gender"),
    _g("boy", "boys", "a boy", None, "gender", True),
    _g("mother", "mothers", "a mother", None, "gender"),
    _g("father", "fathers", "a father", None, "gender", True),
    _g("trans", "trans people", "a trans person", "trans", "gender"),
    _g("trans", "transgender people", "a transgender person", "transgender", "gender"),
    _g("nonbinary", "nonbinary people", "a nonbinary person", "nonbinary", "gender"),
    # race and ethnicity
    _g("black", "Black people", "a Black person", "Black", "race"),
    _g("black", "Blacks", "a Black person", "Black", "race"),
    _g("white", "white people", "a white person", "white", "race", True),
    _g("white", "whites", "a white person", "white", "race", True),
    _g("asian", "Asians", "an Asian", "Asian", "race"),
    _g("asian", "Asian people", "an Asian person", "Asian", "race"),
    _g("latino", "Latinos", "a Latino", "Latino", "race"),
    _g("hispanic", "Hispanics", "a Hispanic person", "Hispanic", "race"),
    _g("arab", "Arabs", "an Arab", "Arab", "race"),
    _g("native_american", "Native Americans", "a Native American", "Native American", "race"),
    _g("indigenous", "Indigenous people", "an Indigenous person", "Indigenous", "race"),
    _g("roma", "Roma people", "a Roma person", "Roma", "race"),
    _g("african", "Africans", "an African", "African", "race"),
    _g("mixed_race", "mixed-race people", "a mixed-race person", "mixed-race", "race"),
    # religion
    _g("muslim", "Muslims", "a Muslim", "Muslim", "religion"),
    _g("jewish", "Jews", "a Jew", "Jewish", "religion"),
    _g("jewish", "Jewish people", "a Jewish person", "Jewish", "religion"),
    _g("christian", "Christians", "a Christian", "Christian", "religion", True),
    _g("hindu", "Hindus", "a Hindu", "Hindu", "religion"),
    _g("buddhist", "Buddhists", "a Buddhist", "Buddhist", "religion"),
    _g("sikh", "Sikhs", "a Sikh", "Sikh", "religion"),
    _g("atheist", "atheists", "an atheist", "atheist", "religion"),
    _g("catholic", "Catholics", "a Catholic", "Catholic", "religion", True),
    _g("mormon", "Mormons", "a Mormon", "Mormon", "religion"),
    _g("evangelical", "evangelicals", "an evangelical", "evangelical", "religion"),
    # sexual orientation
    _g("gay", "gay people", "a gay person", "gay", "sexuality"),
    _g("gay", "gay men", "a gay man", "gay", "sexuality"),
    _g("lesbian", "lesbians", "a lesbian", "lesbian", "sexuality"),
    _g("bisexual", "bisexual people", "a bisexual person", "bisexual", "sexuality"),
    _g("straight", "straight people", "a straight person", "straight", "sexuality", True),
    _g("queer", "queer people", "a queer person", "queer", "sexuality"),
    # age
    _g("old", "old people", "an old person", "elderly", "age"),
    _g("old", "the elderly", "an elderly person", "elderly", "age"),
    _g("old", "older workers", "an older worker", None, "age"),
    _g("teen", "teenagers", "a teenager", "teenage", "age"),
    _g("young", "young people", "a young person", "young", "age", True),
    _g("millennial", "millennials", "a millennial", "millennial", "age"),
    _g("boomer", "boomers", "a boomer", None, "age", True),
    # disability and health
    _g("disabled", "disabled people", "a disabled person", "disabled", "disability"),
    _g("disabled", "people with disabilities", "a person with a disability", None, "disability"),
    _g("blind", "blind people", "a blind person", "blind", "disability"),
    _g("deaf", "deaf people", "a deaf person", "deaf", "disability"),
    _g("autistic", "autistic people", "an autistic person", "autistic", "disability"),
    _g("mental_illness", "people with mental illness", "a person with a mental illness", None, "disability"),
    _g("wheelchair", "wheelchair users", "a wheelchair user", None, "disability"),
    _g("fat", "fat people", "a fat person", "overweight", "body"),
    # class and status
    _g("poor", "poor people", "a poor person", "poor", "class"),
    _g("rich", "rich people", "a rich person", "wealthy", "class", True),
    _g("homeless", "homeless people", "a homeless person", "homeless", "class"),
    _g("immigrant", "immigrants", "an immigrant", "immigrant", "class"),
    _g("refugee", "refugees", "a refugee", "refugee", "class"),
    _g("working_class", "working-class people", "a working-class person", "working-class", "class"),
    _g("single_mother", "single mothers", "a single mother", None, "class"),
    # politics
    _g("liberal", "liberals", "a liberal", "liberal", "politics"),
    _g("conservative", "conservatives", "a conservative", "conservative", "politics", True),
    # nationality (SeeGULL adds ~180 more when its file is given)
    _g("american", "Americans", "an American", "American", "nationality", True),
    _g("mexican", "Mexicans", "a Mexican", "Mexican", "nationality"),
    _g("german", "Germans", "a German", "German", "nationality", True),
    _g("french", "French people", "a French person", "French", "nationality", True),
    _g("russian", "Russians", "a Russian", "Russian", "nationality"),
    _g("chinese", "Chinese people", "a Chinese person", "Chinese", "nationality"),
    _g("indian", "Indians", "an Indian", "Indian", "nationality"),
    _g("nigerian", "Nigerians", "a Nigerian", "Nigerian", "nationality"),
    _g("british", "British people", "a British person", "British", "nationality", True),
    _g("italian", "Italians", "an Italian", "Italian", "nationality"),
    _g("irish", "Irish people", "an Irish person", "Irish", "nationality"),
    _g("polish", "Poles", "a Pole", "Polish", "nationality"),
    _g("turkish", "Turks", "a Turk", "Turkish", "nationality"),
    _g("iranian", "Iranians", "an Iranian", "Iranian", "nationality"),
    _g("syrian", "Syrians", "a Syrian", "Syrian", "nationality"),
    _g("somali", "Somalis", "a Somali", "Somali", "nationality"),
    _g("afghan", "Afghans", "an Afghan", "Afghan", "nationality"),
    _g("japanese", "Japanese people", "a Japanese person", "Japanese", "nationality"),
    _g("korean", "Koreans", "a Korean", "Korean", "nationality"),
    _g("filipino", "Filipinos", "a Filipino", "Filipino", "nationality"),
    _g("brazilian", "Brazilians", "a Brazilian", "Brazilian", "nationality"),
    _g("canadian", "Canadians", "a Canadian", "Canadian", "nationality", True),
    _g("pakistani", "Pakistanis", "a Pakistani", "Pakistani", "nationality"),
    _g("ukrainian", "Ukrainians", "a Ukrainian", "Ukrainian", "nationality"),
    _g("palestinian", "Palestinians", "a Palestinian", "Palestinian", "nationality"),
    _g("israeli", "Israelis", "an Israeli", "Israeli", "nationality"),
    _g("australian", "Australians", "an Australian", "Australian", "nationality", True),
    # region
    _g("southerner", "Southerners", "a Southerner", "Southern", "region"),
    _g("new_yorker", "New Yorkers", "a New Yorker", None, "region"),
    _g("texan", "Texans", "a Texan", "Texan", "region"),
    _g("rural", "rural people", "a rural person", "rural", "region"),
    _g("city", "city people", "a city person", None, "region", True),
)
"""The groups of the functional suite (several spellings of one group share a key)."""


@dataclass(frozen=True)
class Attribute:
    word: str
    """As it follows 'are': 'lazy', 'criminals', 'bad at math'."""
    kind: str
    """'adj' (fits 'so {word}', 'too {word} to ...') or 'noun' (a plural noun phrase)."""
    one: str | None = None
    """Singular noun phrase for nouns ('a criminal'); None for adjectives."""

    @property
    def key(self) -> str:
        return self.word


def _adj(*words: str) -> tuple[Attribute, ...]:
    return tuple(Attribute(w, "adj") for w in words)


def _noun(*pairs: tuple[str, str]) -> tuple[Attribute, ...]:
    return tuple(Attribute(plural, "noun", one) for plural, one in pairs)


NEGATIVE: tuple[Attribute, ...] = _adj(
    "lazy", "stupid", "dumb", "dirty", "violent", "dangerous", "corrupt", "dishonest", "greedy", "arrogant",
    "rude", "ignorant", "uneducated", "uncivilized", "backward", "primitive", "smelly", "filthy",
    "untrustworthy", "unreliable", "incompetent", "inferior", "useless", "aggressive", "cruel", "evil",
    "selfish", "stingy", "loud and obnoxious", "weak", "cowardly", "irrational", "unintelligent",
    "illiterate", "ugly", "sneaky", "deceitful", "fanatical", "hostile", "immoral", "worthless",
    "bad at math", "bad drivers", "bad with money", "bad at their jobs", "useless with technology",
    "overly emotional", "hysterical", "mentally unstable", "unhygienic", "barbaric", "brutish", "manipulative",
    "spoiled", "entitled", "hateful", "disgusting", "pathetic", "inbred", "feeble", "sly", "cheap",
    "lying", "unfit to lead", "unfit to be parents", "naturally submissive", "prone to crime",
) + _noun(
    ("criminals", "a criminal"), ("terrorists", "a terrorist"), ("thieves", "a thief"), ("liars", "a liar"),
    ("rapists", "a rapist"), ("murderers", "a murderer"), ("drunks", "a drunk"),
    ("drug dealers", "a drug dealer"), ("gangsters", "a gangster"), ("scammers", "a scammer"),
    ("cheaters", "a cheater"), ("freeloaders", "a freeloader"), ("fanatics", "a fanatic"),
    ("idiots", "an idiot"), ("losers", "a loser"), ("perverts", "a pervert"), ("extremists", "an extremist"),
    ("welfare cheats", "a welfare cheat"), ("bad parents", "a bad parent"), ("gold diggers", "a gold digger"),
    ("a burden on society", "a burden on society"), ("bad tippers", "a bad tipper"),
)
"""Traits whose attribution to a whole group is a negative stereotype."""

POSITIVE: tuple[Attribute, ...] = _adj(
    "intelligent", "smart", "honest", "hardworking", "capable", "trustworthy", "kind", "talented", "reliable",
    "competent", "creative", "brave", "polite", "caring", "clean", "responsible", "good at math",
    "good leaders", "good parents", "good engineers", "good with technology", "civilized", "peaceful",
    "qualified", "able to learn", "fit to lead",
)
"""Traits whose *denial* of a whole group ("X are not intelligent") is a negative stereotype."""

DEHUMANISING: tuple[Attribute, ...] = _noun(
    ("animals", "an animal"), ("vermin", "vermin"), ("rats", "a rat"), ("cockroaches", "a cockroach"),
    ("parasites", "a parasite"), ("a disease", "a disease"), ("a plague", "a plague"),
    ("subhuman", "subhuman"), ("insects", "an insect"), ("pests", "a pest"), ("filth", "filth"),
    ("monsters", "a monster"), ("savages", "a savage"), ("a cancer on society", "a cancer"),
    ("trash", "trash"), ("garbage", "garbage"), ("beasts", "a beast"), ("scum", "scum"),
    ("not human", "not human"), ("a virus", "a virus"), ("leeches", "a leech"), ("swine", "a swine"),
)
"""Words that deny a group's humanity."""

ROLES: tuple[str, ...] = (
    "engineers", "doctors", "nurses", "teachers", "managers", "pilots", "leaders", "scientists", "lawyers",
    "programmers", "soldiers", "police officers", "judges", "CEOs", "drivers", "accountants", "employees",
    "tenants", "neighbours", "students", "parents", "politicians", "surgeons", "coworkers",
)
"""Jobs and roles for the exclusion and 'too X to be good Y' templates."""

THINGS: tuple[str, ...] = (
    "traffic", "printer", "weather", "laptop", "queue", "bus", "phone", "game", "meeting", "exam", "hike", "oven",
    "car", "train", "alarm clock", "Wi-Fi", "movie", "concert", "pizza", "homework", "week", "weekend",
    "coffee machine",
    "elevator", "flight", "parking lot", "update", "shower", "paperwork", "deadline", "lawn mower", "fridge",
)
"""Everyday things for the templates about no one (profanity with no target, complaints about objects)."""
