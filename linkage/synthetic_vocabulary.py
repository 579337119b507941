"""Word lists and settings behind ``linkage.synthetic``: names, streets, cities, phone plans,
email domains, and how each kind of source system captures data.

All lists are hand-written and fictional enough for tests and demos. Lists of names are ordered
from most to least frequent; the generator turns the rank into a Zipf-like weight, so a few names
are very common and most are rare (the skew that term-frequency adjustment has to cope with).
"""

FEMALE_GIVEN_NAMES: tuple[str, ...] = (
    "Mary", "Sarah", "Emma", "Laura", "Anna", "Elizabeth", "Jennifer", "Maria", "Julia",
    "Sophie", "Katherine", "Emily", "Jessica", "Hannah", "Rebecca", "Claire", "Lisa", "Michelle",
    "Susan", "Margaret", "Patricia", "Linda", "Barbara", "Karen", "Helen", "Rachel", "Charlotte",
    "Olivia", "Amelia", "Chloe", "Lucy", "Grace", "Isabella", "Victoria", "Alice", "Catherine",
    "Christine", "Deborah", "Jane", "Nicola", "Samantha", "Stephanie", "Amanda", "Kimberly",
    "Megan", "Abigail", "Aoife", "Niamh", "Siobhán", "Sinéad", "Saoirse", "Léa", "Camille",
    "Manon", "Chloé", "Élodie", "Hélène", "Inès", "Céline", "Zoë", "Lena", "Mia", "Katharina",
    "Sabine", "Ursula", "Birgit", "Jana", "Anouk", "Sanne", "Femke", "Lotte", "María", "Lucía",
    "Carmen", "Isabel", "Małgorzata", "Katarzyna", "Agnieszka", "Ewa", "Priya", "Aisha",
    "Fatima", "Mei", "Noor", "Renée", "Ingrid", "Björg", "Philippa", "Imogen", "Henrietta",
    "Ottilie", "Wilhelmina", "Beatrix", "Seren", "Perpetua", "Marguerite", "Dagmar", "Gráinne",
)

MALE_GIVEN_NAMES: tuple[str, ...] = (
    "John", "David", "Michael", "James", "Robert", "William", "Thomas", "Daniel", "Richard",
    "Paul", "Mark", "Peter", "Christopher", "Andrew", "Matthew", "Joseph", "Charles", "Anthony",
    "Steven", "Jonathan", "Edward", "Benjamin", "Samuel", "Alexander", "Nicholas", "Patrick",
    "Stephen", "Timothy", "Kevin", "Brian", "George", "Henry", "Oliver", "Harry", "Jack", "Liam",
    "Noah", "Ethan", "Lucas", "Ryan", "Sean", "Conor", "Ciarán", "Seán", "Pádraig", "Oisín",
    "Jean", "Pierre", "Louis", "Nicolas", "François", "Jérôme", "Stéphane", "Benoît", "Théo",
    "Hugo", "Lukas", "Jonas", "Leon", "Maximilian", "Felix", "Jürgen", "Stefan", "Klaus",
    "Wolfgang", "Günter", "Jan", "Daan", "Bram", "Pieter", "Joost", "Maarten", "Łukasz", "Piotr",
    "Krzysztof", "Wojciech", "José", "Juan", "Carlos", "Javier", "Alejandro", "Jesús",
    "Mohammed", "Ahmed", "Omar", "Arjun", "Wei", "Hiroshi", "Dmitri", "Tobias", "Rupert",
    "Barnaby", "Fergus", "Lorcan", "Leopold", "Bartholomew", "Cuthbert", "Evander", "Aurelio",
)

# Formal name -> informal forms. One direction is enough: sources record what the customer
# said or typed, and customers shorten their names, they rarely formalise them.
NICKNAMES: dict[str, tuple[str, ...]] = {
    "Robert": ("Bob", "Rob", "Bobby"), "William": ("Bill", "Will", "Billy"),
    "Elizabeth": ("Liz", "Beth", "Lizzie", "Betty"), "Katherine": ("Kate", "Kathy", "Katie"),
    "Catherine": ("Cathy", "Kate", "Cat"), "Richard": ("Rick", "Dick", "Rich"),
    "James": ("Jim", "Jimmy", "Jamie"), "Michael": ("Mike", "Mick"), "Thomas": ("Tom", "Tommy"),
    "Joseph": ("Joe", "Joey"), "Daniel": ("Dan", "Danny"), "David": ("Dave", "Davy"),
    "Christopher": ("Chris", "Kit"), "Andrew": ("Andy", "Drew"), "Matthew": ("Matt",),
    "Anthony": ("Tony",), "Steven": ("Steve",), "Stephen": ("Steve",), "Jonathan": ("Jon",),
    "Edward": ("Ed", "Eddie", "Ted"), "Benjamin": ("Ben",), "Samuel": ("Sam",),
    "Alexander": ("Alex", "Sasha"), "Nicholas": ("Nick",), "Patrick": ("Pat", "Paddy"),
    "Timothy": ("Tim",), "Charles": ("Charlie", "Chuck"), "Henry": ("Harry", "Hank"),
    "Margaret": ("Maggie", "Peggy", "Meg"), "Jennifer": ("Jen", "Jenny"),
    "Rebecca": ("Becky", "Becca"), "Victoria": ("Vicky", "Tori"), "Samantha": ("Sam",),
    "Stephanie": ("Steph",), "Abigail": ("Abby",), "Deborah": ("Debbie", "Deb"),
    "Patricia": ("Pat", "Trish"), "Susan": ("Sue", "Susie"), "Christine": ("Chris",),
    "Nicola": ("Nicky",), "Amanda": ("Mandy",), "Kimberly": ("Kim",), "Isabella": ("Bella",),
    "Maximilian": ("Max",), "Katharina": ("Kathi", "Katja"), "José": ("Pepe",),
    "Wojciech": ("Wojtek",), "Małgorzata": ("Gosia",), "Katarzyna": ("Kasia",),
}

# The head of the family-name distribution, most frequent first.
COMMON_FAMILY_NAMES: tuple[str, ...] = (
    "Smith", "Jones", "Müller", "García", "Williams", "Brown", "Johnson", "Murphy", "Martin",
    "Taylor", "Schmidt", "Miller", "Davies", "Rodríguez", "Wilson", "Evans", "de Jong",
    "Bernard", "Schneider", "Kelly", "Thomas", "Roberts", "Fischer", "Dubois", "Walsh", "Jansen",
    "Moore", "Anderson", "Thompson", "White", "Wright", "Byrne", "Weber", "de Vries", "Martínez",
    "Meyer", "Petit", "Davis", "Walker", "O'Brien", "Ryan", "Wagner", "van den Berg", "López",
    "Robinson", "Durand", "Becker", "Hughes", "Green", "Lewis", "O'Connor", "Bakker", "Leroy",
    "Schulz", "Hall", "Wood", "Clarke", "Hernández", "Hoffmann", "van Dijk", "Moreau", "Jackson",
    "McCarthy", "Schäfer", "Visser", "Simon", "Clark", "Harris", "Doyle", "Koch", "Smit",
    "Laurent", "González", "Turner", "Lee", "Bauer", "Meijer", "Lefèvre", "King", "Baker",
    "O'Sullivan", "Richter", "de Boer", "Michel", "Pérez", "Hill", "Collins", "Klein", "Mulder",
    "Nowak", "Scott", "Lynch", "Wolf", "Bos", "Garnier", "Sánchez", "Adams", "Kowalski",
    "Schröder", "Vos", "Fontaine", "Nguyen", "Wiśniewski", "Krüger", "Peeters", "Rousseau",
    "Patel", "Weiß", "Dekker", "Chevalier", "Wójcik", "Brennan", "Zimmermann", "Hendriks",
)

# The long tail: a stem plus a suffix gives thousands of rare, plausible family names.
FAMILY_NAME_TAILS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "english": (
        ("Ash", "Black", "Brad", "Brook", "Bur", "Chad", "Claren", "Crom", "Dal", "Dun", "Ed",
         "Fair", "Fen", "Ful", "Gar", "Glad", "Hal", "Har", "Hat", "Hol", "Hunt", "Kil", "Lang",
         "Lock", "Mar", "Mid", "Mor", "New", "Pem", "Rad", "Red", "Roth", "Shel", "Stan", "Sut",
         "Thorn", "Wal", "Wes", "Whit", "Win"),
        ("ton", "ley", "worth", "wood", "ford", "field", "well", "more", "by", "ham", "bury",
         "combe", "stone", "croft", "hurst", "ridge", "brook", "wick", "dale", "mere"),
    ),
    "german": (
        ("Ober", "Unter", "Stein", "Linden", "Hoff", "Schön", "Rosen", "Eichen", "Wald", "Berg",
         "Brand", "Buch", "Falken", "Fried", "Gold", "Grün", "Hart", "Kirch", "Klein", "Lehn",
         "Neu", "Reich", "Sonnen", "Stern", "Weiß", "Zimmer"),
        ("mann", "berg", "feld", "bach", "hofer", "meier", "hauser", "ner", "stein", "brunner",
         "huber", "ling", "wald", "rieder"),
    ),
    "slavic": (
        ("Wojciech", "Kowal", "Nowak", "Lewand", "Zielin", "Szyman", "Woźni", "Kozł", "Jank",
         "Mazur", "Kwiatk", "Krawcz", "Piotr", "Grab", "Pawl", "Michal", "Adamcz", "Wieczor",
         "Jabłoń", "Majew", "Olszew", "Górs", "Rutk", "Sikor", "Dąbr", "Zalew", "Chmiel"),
        ("ski", "owski", "ewicz", "czyk", "ak", "iak"),
    ),
    "irish": (
        ("O'", "Mac", "Mc"),
        ("Dermott", "Gowan", "Grath", "Hale", "Keefe", "Loughlin", "Mahony", "Neill", "Nally",
         "Donagh", "Ruairc", "Shea", "Toole", "Cahill", "Dwyer", "Flaherty", "Kenna", "Guinness"),
    ),
    "dutch": (
        ("van der ", "van den ", "de ", "van ", "ter "),
        ("Meer", "Heuvel", "Veen", "Broek", "Wal", "Bosch", "Velde", "Pol", "Kamp", "Laan",
         "Horst", "Brink", "Hoek", "Graaf", "Wetering", "Zande", "Weide", "Molen", "Beek"),
    ),
    "french": (
        ("Beau", "Belle", "Bon", "Château", "Clair", "Cour", "Dela", "Fon", "Gran", "Lam",
         "Lefe", "Mont", "Pel", "Riche", "Roche", "Ville", "Ver", "Mar"),
        ("mont", "fort", "court", "lier", "ville", "ard", "ier", "eau", "ot", "in", "ais", "and"),
    ),
}

# Which tail a person's rare family name is drawn from, by country (weights).
TAIL_WEIGHTS_BY_COUNTRY: dict[str, dict[str, int]] = {
    "GB": {"english": 8, "irish": 1, "slavic": 1},
    "US": {"english": 6, "irish": 2, "german": 1, "slavic": 1},
    "DE": {"german": 8, "slavic": 2},
    "FR": {"french": 9, "german": 1},
    "IE": {"irish": 7, "english": 3},
    "NL": {"dutch": 8, "german": 1, "slavic": 1},
}

# Unrelated people who share a very common full name (and, in the generator, a birth year).
COMMON_FULL_NAMES: tuple[tuple[str, str, str, str], ...] = (
    ("John", "Smith", "M", "GB"), ("David", "Jones", "M", "GB"), ("Sarah", "Smith", "F", "GB"),
    ("Michael", "Johnson", "M", "US"), ("Mary", "Smith", "F", "US"), ("James", "Brown", "M", "US"),
    ("Thomas", "Müller", "M", "DE"), ("Anna", "Schmidt", "F", "DE"), ("María", "García", "F", "US"),
    ("José", "García", "M", "US"), ("Mary", "Murphy", "F", "IE"), ("Seán", "Murphy", "M", "IE"),
    ("Pierre", "Martin", "M", "FR"), ("Camille", "Bernard", "F", "FR"),
    ("Jan", "de Jong", "M", "NL"),
)

# Country weights in the population, and the country calling code / trunk prefix per country.
COUNTRY_WEIGHTS: dict[str, int] = {"GB": 30, "US": 25, "DE": 15, "FR": 12, "NL": 10, "IE": 8}
CALLING_CODES: dict[str, str] = {
    "GB": "44", "US": "1", "DE": "49", "FR": "33", "IE": "353", "NL": "31",
}
# National significant number lengths (landline, mobile) and mobile prefixes. US mobiles use the
# city's area code, as they do in reality.
PHONE_LENGTHS: dict[str, tuple[int, int]] = {
    "GB": (10, 10), "US": (10, 10), "DE": (10, 11), "FR": (9, 9), "IE": (9, 9), "NL": (9, 9),
}
MOBILE_PREFIXES: dict[str, tuple[str, ...]] = {
    "GB": ("74", "75", "77", "78", "79"), "US": (), "DE": ("151", "152", "160", "170", "176"),
    "FR": ("6", "7"), "IE": ("83", "85", "86", "87", "89"), "NL": ("6",),
}

# (locality, region, postcode prefixes, landline area code, weight) per country.
CITIES: dict[str, tuple[tuple[str, str, tuple[str, ...], str, int], ...]] = {
    "GB": (
        ("London", "Greater London", ("E", "N", "SE", "SW", "W", "NW"), "20", 40),
        ("Manchester", "Greater Manchester", ("M",), "161", 8),
        ("Birmingham", "West Midlands", ("B",), "121", 9),
        ("Leeds", "West Yorkshire", ("LS",), "113", 6),
        ("Glasgow", "Lanarkshire", ("G",), "141", 6),
        ("Liverpool", "Merseyside", ("L",), "151", 5),
        ("Bristol", "Bristol", ("BS",), "117", 5),
        ("Sheffield", "South Yorkshire", ("S",), "114", 5),
        ("Edinburgh", "Midlothian", ("EH",), "131", 5),
        ("Cardiff", "South Glamorgan", ("CF",), "29", 4),
        ("Newcastle upon Tyne", "Tyne and Wear", ("NE",), "191", 4),
        ("Oxford", "Oxfordshire", ("OX",), "1865", 2),
        ("York", "North Yorkshire", ("YO",), "1904", 2),
    ),
    "US": (
        ("New York", "NY", ("100", "101", "112"), "212", 30),
        ("Los Angeles", "CA", ("900",), "213", 14),
        ("Chicago", "IL", ("606",), "312", 9),
        ("Houston", "TX", ("770",), "713", 7),
        ("Phoenix", "AZ", ("850",), "602", 5),
        ("Philadelphia", "PA", ("191",), "215", 5),
        ("Boston", "MA", ("021",), "617", 5),
        ("Seattle", "WA", ("981",), "206", 5),
        ("Denver", "CO", ("802",), "303", 4),
        ("Dallas", "TX", ("752",), "214", 4),
        # Same locality name in two states: a classic false friend for address matching.
        ("Springfield", "IL", ("627",), "217", 2),
        ("Springfield", "MA", ("011",), "413", 2),
    ),
    "DE": (
        ("Berlin", "Berlin", ("10", "12", "13"), "30", 25),
        ("Hamburg", "Hamburg", ("20", "22"), "40", 12),
        ("München", "Bayern", ("80", "81"), "89", 10),
        ("Köln", "Nordrhein-Westfalen", ("50", "51"), "221", 8),
        ("Frankfurt am Main", "Hessen", ("60",), "69", 6),
        ("Stuttgart", "Baden-Württemberg", ("70",), "711", 5),
        ("Düsseldorf", "Nordrhein-Westfalen", ("40",), "211", 5),
        ("Leipzig", "Sachsen", ("04",), "341", 4),
        ("Dresden", "Sachsen", ("01",), "351", 4),
        ("Nürnberg", "Bayern", ("90",), "911", 4),
        ("Freiburg im Breisgau", "Baden-Württemberg", ("79",), "761", 2),
    ),
    "FR": (
        ("Paris", "Île-de-France", ("750",), "1", 30),
        ("Marseille", "Provence-Alpes-Côte d'Azur", ("130",), "4", 9),
        ("Lyon", "Auvergne-Rhône-Alpes", ("690",), "4", 8),
        ("Toulouse", "Occitanie", ("310",), "5", 7),
        ("Nice", "Provence-Alpes-Côte d'Azur", ("060",), "4", 5),
        ("Nantes", "Pays de la Loire", ("440",), "2", 5),
        ("Strasbourg", "Grand Est", ("670",), "3", 5),
        ("Bordeaux", "Nouvelle-Aquitaine", ("330",), "5", 4),
        ("Lille", "Hauts-de-France", ("590",), "3", 4),
        ("Saint-Étienne", "Auvergne-Rhône-Alpes", ("420",), "4", 2),
    ),
    "IE": (
        ("Dublin", "Dublin", ("D01", "D02", "D04", "D06", "D08", "D12", "D15"), "1", 45),
        ("Cork", "Cork", ("T12", "T23"), "21", 15),
        ("Galway", "Galway", ("H91",), "91", 8),
        ("Limerick", "Limerick", ("V94",), "61", 7),
        ("Waterford", "Waterford", ("X91",), "51", 5),
        ("Dún Laoghaire", "Dublin", ("A96",), "1", 4),
        ("Kilkenny", "Kilkenny", ("R95",), "56", 3),
    ),
    "NL": (
        ("Amsterdam", "Noord-Holland", ("10", "11"), "20", 25),
        ("Rotterdam", "Zuid-Holland", ("30",), "10", 15),
        ("Den Haag", "Zuid-Holland", ("25",), "70", 12),
        ("Utrecht", "Utrecht", ("35",), "30", 10),
        ("Eindhoven", "Noord-Brabant", ("56",), "40", 6),
        ("Groningen", "Groningen", ("97",), "50", 5),
        ("Nijmegen", "Gelderland", ("65",), "24", 4),
        ("Maastricht", "Limburg", ("62",), "43", 3),
        ("'s-Hertogenbosch", "Noord-Brabant", ("52",), "73", 3),
    ),
}

# Street stems and street types per country; how they combine is decided by the generator.
_UK_STREETS = (
    "Oak", "Church", "Mill", "Station", "Victoria", "High", "Park", "King's", "Queen's", "Manor",
    "Green", "Chapel", "School", "Albert", "George", "Grange", "Orchard", "Meadow", "Willow",
    "Beech", "Cedar", "Elm", "Windmill", "Castle", "Bridge", "Springfield", "Marlborough",
)
STREET_STEMS: dict[str, tuple[str, ...]] = {
    "GB": _UK_STREETS,
    "IE": _UK_STREETS + ("Abbey", "Glenageary", "Rathmines", "Clontarf", "Dargle", "Shannon"),
    "US": ("Maple", "Oak", "Pine", "Cedar", "Elm", "Washington", "Lincoln", "Jefferson", "Park",
           "Lake", "Hill", "Main", "Franklin", "Madison", "Sunset", "Highland", "Ridge", "Spring",
           "Walnut", "Chestnut", "Willow", "Jackson", "Adams", "Forest", "River", "Cherry"),
    "DE": ("Linden", "Haupt", "Bahnhof", "Schul", "Kirch", "Garten", "Berg", "Wald", "Wiesen",
           "Birken", "Eichen", "Mühlen", "Rosen", "Goethe", "Schiller", "Beethoven", "Königs",
           "Markt", "Brunnen", "Tannen", "Ahorn", "Feld", "Sonnen", "Lessing", "Post", "Dorf"),
    "FR": (" de la République", " Victor Hugo", " Jean Jaurès", " de la Gare", " des Lilas",
           " du Moulin", " de l'Église", " Pasteur", " Voltaire", " du Général de Gaulle",
           " des Écoles", " de la Paix", " Gambetta", " du Château", " des Roses", " de Verdun",
           " Émile Zola", " de la Mairie", " des Tilleuls", " du Stade"),
    "NL": ("Kerk", "Molen", "School", "Dorps", "Stations", "Linden", "Eiken", "Beuken",
           "Prinsen", "Heren", "Keizers", "Wilhelmina", "Juliana", "Beatrix", "Oranje", "Hoog",
           "Markt", "Brug", "Dijk", "Tuin", "Kastanje", "Vondel", "Rembrandt", "Nieuwe"),
}
STREET_TYPES: dict[str, tuple[str, ...]] = {
    "GB": ("Road", "Street", "Lane", "Avenue", "Close", "Drive", "Way", "Crescent", "Gardens",
           "Terrace", "Place", "Grove"),
    "IE": ("Road", "Street", "Lane", "Avenue", "Park", "Drive", "Terrace", "Place", "Grove"),
    "US": ("Street", "Avenue", "Road", "Drive", "Lane", "Boulevard", "Court", "Place", "Way"),
    "DE": ("straße", "straße", "straße", "weg", "allee", "gasse", "ring", "platz"),
    "FR": ("rue", "rue", "rue", "avenue", "boulevard", "place", "allée", "impasse", "chemin"),
    "NL": ("straat", "straat", "weg", "laan", "plein", "gracht", "kade", "singel"),
}
STREET_ABBREVIATIONS: dict[str, str] = {
    "Road": "Rd", "Street": "St", "Lane": "Ln", "Avenue": "Ave", "Close": "Cl", "Drive": "Dr",
    "Crescent": "Cres", "Gardens": "Gdns", "Terrace": "Terr", "Place": "Pl", "Grove": "Gr",
    "Boulevard": "Blvd", "Court": "Ct", "Park": "Pk", "straße": "str.", "allee": "al.",
    "platz": "pl.", "avenue": "av.", "boulevard": "bd", "place": "pl.", "straat": "str.",
    "chemin": "ch.", "allée": "all.",
}
# Second address lines (flat, floor, building) and how often a household has one.
ADDRESS_LINE2: dict[str, tuple[str, ...]] = {
    "GB": ("Flat {n}", "Flat {n}", "Apartment {n}", "Floor {n}"),
    "IE": ("Apartment {n}", "Apt {n}", "Flat {n}"),
    "US": ("Apt {n}", "Apt {n}B", "Suite {n}", "Unit {n}"),
    "DE": ("{n}. OG", "Hinterhaus", "Seitenflügel", "Whg. {n}"),
    "FR": ("Appt {n}", "Bât. B", "Résidence les Pins", "Escalier {n}"),
    "NL": ("{n}-hoog", "bus {n}", "Appartement {n}"),
}

# Private email providers per country, with weights.
EMAIL_PROVIDERS: dict[str, tuple[tuple[str, int], ...]] = {
    "GB": (("gmail.com", 40), ("hotmail.co.uk", 15), ("outlook.com", 10), ("yahoo.co.uk", 8),
           ("btinternet.com", 6), ("icloud.com", 8), ("sky.com", 4)),
    "US": (("gmail.com", 50), ("yahoo.com", 15), ("hotmail.com", 8), ("outlook.com", 8),
           ("aol.com", 5), ("icloud.com", 10), ("comcast.net", 4)),
    "DE": (("gmail.com", 25), ("gmx.de", 25), ("web.de", 25), ("t-online.de", 12),
           ("outlook.de", 5), ("posteo.de", 3)),
    "FR": (("gmail.com", 35), ("orange.fr", 20), ("free.fr", 12), ("laposte.net", 10),
           ("hotmail.fr", 12), ("sfr.fr", 8)),
    "IE": (("gmail.com", 45), ("eircom.net", 12), ("hotmail.com", 15), ("outlook.com", 8),
           ("yahoo.ie", 8), ("icloud.com", 8)),
    "NL": (("gmail.com", 35), ("hotmail.com", 15), ("ziggo.nl", 15), ("kpnmail.nl", 12),
           ("live.nl", 8), ("outlook.com", 8), ("xs4all.nl", 5)),
}
# Providers that deliver "local+tag@domain" to "local@domain".
PLUS_TAG_PROVIDERS: frozenset[str] = frozenset(
    {"gmail.com", "outlook.com", "outlook.de", "hotmail.com", "icloud.com", "posteo.de"}
)
PLUS_TAGS: tuple[str, ...] = ("shop", "news", "orders", "billing", "spam", "2019", "promo")

# Employers for work email addresses: "<name>-<sector>.<tld>".
EMPLOYER_NAMES: tuple[str, ...] = (
    "acme", "northwind", "contoso", "globex", "initech", "umbrella", "vandelay", "hooli",
    "tyrell", "wonka", "cyberdyne", "soylent", "aperture", "oscorp", "duff", "gekko",
)
EMPLOYER_SECTORS: tuple[str, ...] = (
    "logistics", "foods", "systems", "consulting", "bank", "media", "energy", "health", "labs",
)
WORK_EMAIL_TLDS: dict[str, str] = {
    "GB": "co.uk", "US": "com", "DE": "de", "FR": "fr", "IE": "ie", "NL": "nl",
}

# Seven ways people write a phone number, as positional templates (str.format is twice as fast
# that way): {0} calling code, {1} area code, {2} national significant number, {3} the rest
# grouped the local way; US only: {4} and {5} the rest grouped with a space / a dot.
PHONE_TEMPLATES: tuple[str, ...] = (
    "0{1} {3}", "0{2}", "+{0}{2}", "+{0} {1} {3}", "00{0} {1} {3}", "+{0} (0){1} {3}", "(0{1}) {3}",
)
US_PHONE_TEMPLATES: tuple[str, ...] = (
    "({1}) {3}", "{2}", "+1{2}", "+1 {1} {4}", "001 {1} {4}", "+1-{1}-{3}", "{1}.{5}",
)
# How people group national IDs when they type them: "QQ 12 34 56 C", "1 84 12 75 123 456 78".
NATIONAL_ID_GROUPS: dict[str, tuple[tuple[int, int], ...]] = {
    "GB": ((0, 2), (2, 4), (4, 6), (6, 8), (8, 9)),
    "US": ((0, 3), (4, 6), (7, 11)),
    "FR": ((0, 1), (1, 3), (3, 5), (5, 7), (7, 10), (10, 13), (13, 15)),
}

# How each kind of source system captures (and mangles) customer data. ``missing`` holds one
# probability per canonical attribute, in CANONICAL_ATTRIBUTES order; ``phone_styles`` weighs the
# seven PHONE_TEMPLATES. ``weight`` is the relative chance that a person has a record there.
# Unknown source codes get DEFAULT_SOURCE_PROFILE with keys "<CODE>-0000001".
SOURCE_PROFILES: dict[str, dict] = {
    # A CRM fed by sales staff: fairly complete, national IDs rarely captured.
    "crm": dict(weight=1.0, missing=(0, 0, .15, .1, .1, .05, .1, .03, .05, .3, .05, .6),
                no_address=.02, typo=.04, nickname=.08, initial=0, work_email=.15,
                email_noise=.05, landline=.4, phone_styles=(50, 10, 5, 15, 5, 5, 10),
                key_prefix="CRM-", key_width=6),
    # Billing needs a postal address and a tax identifier; invoices often carry initials.
    "billing": dict(weight=.8, missing=(.02, 0, .4, .05, .2, 0, .05, 0, 0, .2, 0, .3),
                    no_address=0, typo=.02, nickname=.03, initial=.1, work_email=.4,
                    email_noise=.03, landline=.3, phone_styles=(20, 10, 30, 20, 10, 5, 5),
                    key_prefix="INV-C-", key_start=10000),
    # Support agents type what they hear on the phone: typos, nicknames, hardly any dates.
    "support": dict(weight=.5, missing=(.05, .03, .9, .03, .05, .1, .5, .1, .1, .6, .3, 1),
                    no_address=.5, typo=.07, nickname=.2, initial=0, work_email=.1,
                    email_noise=.05, landline=.5, phone_styles=(40, 25, 5, 10, 5, 5, 10),
                    key_prefix="SUP-", hashed_keys=True),
    # Customers type their own details in the web shop: plus-tags, odd capitalisation.
    "webshop": dict(weight=.7, missing=(0, 0, .5, 0, .25, .02, .2, .01, .01, .4, .02, 1),
                    no_address=.02, typo=.03, nickname=.1, initial=0, work_email=.02,
                    email_noise=.2, landline=.2, phone_styles=(20, 10, 40, 20, 5, 3, 2),
                    key_prefix="WS-", key_start=10001),
}
DEFAULT_SOURCE_PROFILE: dict = dict(
    weight=.6, missing=(.02, .02, .3, .1, .15, .05, .1, .05, .05, .3, .05, .5), no_address=.05,
    typo=.04, nickname=.08, initial=.02, work_email=.1, email_noise=.05, landline=.3,
    phone_styles=(30, 15, 15, 15, 10, 5, 10), key_width=7,
)
