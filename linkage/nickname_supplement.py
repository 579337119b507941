"""Diminutives the ``nicknames`` package does not know, as standardised names (ASCII, lower case).

The package's list is English and maps nicknames to formal names one way: "katie" leads to
"kathryn" but not to "katherine", and "sasha", "kasia" or "pepe" lead nowhere. Customers of a
European business call themselves all of these, so the hub adds the common ones here: formal
name -> the short forms people give instead. ``linkage.features.nickname_group`` joins both.
"""

from __future__ import annotations

NICKNAMES: dict[str, tuple[str, ...]] = {
    # English spellings the package misses.
    "catherine": ("cat", "cathy", "kate", "katie", "kathy", "kitty"),
    "katherine": ("kate", "katie", "kathy", "kat", "kitty"),
    "katharine": ("kate", "katie", "kathy"),
    "kathryn": ("kate", "katie", "kathy"),
    "david": ("dave", "davy", "davey"),
    "alexander": ("alex", "sandy", "sasha", "sascha", "xander"),
    "alexandra": ("alex", "sandra", "sasha", "sascha", "lexi"),
    "nicola": ("nicky", "nikki", "nic"),
    "nicole": ("nicky", "nikki", "nic"),
    "elizabeth": ("betty", "betsy", "beth", "liz", "lizzie", "libby", "eliza"),
    "margaret": ("maggie", "meg", "peggy", "madge", "greta"),
    "susan": ("sue", "susie", "suzie", "suzy"),
    "william": ("liam",),
    "alfred": ("alf", "alfie", "fred", "freddie"),
    "robert": ("bert", "bertie", "robbie"),
    "barbara": ("babs", "barb", "basia"),  # basia: Polish
    "isabel": ("izzy", "izzie", "bel"),
    "isabella": ("izzy", "bella"),
    "charlotte": ("charlie", "lottie"),
    "maurice": ("mo",),
    "stanley": ("stan",),
    "oswald": ("ozzie", "oz"),
    "rosalind": ("ros", "roz"),
    "mildred": ("millie",),
    "henrietta": ("hettie", "etta"),
    # German.
    "katharina": ("kathi", "kati", "katja", "trine"),
    "johannes": ("hans", "jo", "hannes", "jan"),
    "elisabeth": ("lisa", "elli", "liesel", "sissi"),
    "friedrich": ("fritz",),
    "margarete": ("grete", "gretel"),
    "susanne": ("susi",),
    "stefanie": ("steffi",),
    "margarethe": ("grete", "greta"),
    "ursula": ("uschi", "ulla"),
    "friederike": ("rike", "frieda"),
    "josef": ("sepp", "seppi", "beppo", "jupp"),
    # Polish.
    "wojciech": ("wojtek",),
    "malgorzata": ("gosia", "malgosia"),
    "katarzyna": ("kasia",),
    "aleksandra": ("ola",),
    "agnieszka": ("aga",),
    "tomasz": ("tomek",),
    "piotr": ("piotrek",),
    "magdalena": ("magda",),
    "jakub": ("kuba",),
    "bartlomiej": ("bartek",),
    "stanislaw": ("staszek", "stas", "stan"),
    "franciszek": ("franek",),
    "zofia": ("zosia",),
    "anna": ("ania", "anka"),
    "maria": ("marysia", "masha"),  # masha: Russian
    "jerzy": ("jurek",),
    "jan": ("janek",),
    # Scandinavian.
    "olaf": ("ole",),
    "lars": ("lasse",),
    # Spanish.
    "jose": ("pepe",),
    "francisco": ("paco", "pancho", "curro"),
    "dolores": ("lola",),
    "ignacio": ("nacho",),
    "manuel": ("manolo",),
    "jesus": ("chucho", "chuy"),
    "guadalupe": ("lupe",),
    # Italian.
    "giuseppe": ("beppe", "peppe", "pino"),
    "giovanni": ("gianni",),
    # Dutch.
    "cornelis": ("kees",),
    "hendrik": ("henk",),
    # Russian.
    "aleksandr": ("sasha", "shura"),
    "dmitri": ("dima",),
    "ekaterina": ("katya",),
    "mikhail": ("misha",),
    "natalia": ("natasha",),
    "nikolai": ("kolya",),
    "ivan": ("vanya",),
    # Irish.
    "padraig": ("paddy",),
}

# Each short form -> the formal names it stands for.
FORMAL_NAMES: dict[str, frozenset[str]] = {}
for _formal, _short in NICKNAMES.items():
    for _name in _short:
        FORMAL_NAMES[_name] = FORMAL_NAMES.get(_name, frozenset()) | {_formal}
