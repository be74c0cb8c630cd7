//! Invented vocabulary for the synthetic generator: outlets, companies, people, places, products,
//! news event types with their headline templates, and the collector-result universe (topics,
//! brand names, answer sentences). Every name here is made up; no real headline is used.
//!
//! Template syntax (see `expand` in `mod.rs`): `{X}` a slot filled from the story, `(a|b|c)` one
//! alternative, `[text]` optional text (included half of the time).

/// Industries of invented companies: display suffix, unit nouns for counts, products.
pub struct Industry {
    pub suffix: &'static str,
    /// Plural unit nouns, e.g. "vehicles" (used by `{U}`).
    pub units: &'static [&'static str],
    /// True when products are drugs (named from `DRUGS`) rather than devices.
    pub drugs: bool,
}

pub const MOTORS: u16 = 1 << 0;
pub const PHARMA: u16 = 1 << 1;
pub const BANK: u16 = 1 << 2;
pub const AIRLINES: u16 = 1 << 3;
pub const TELECOM: u16 = 1 << 4;
pub const TECH: u16 = 1 << 5;
pub const FOODS: u16 = 1 << 6;
pub const ENERGY: u16 = 1 << 7;
pub const RETAIL: u16 = 1 << 8;
pub const DEVICES: u16 = 1 << 9;

/// Indexed by the bit position of the masks above.
pub const INDUSTRIES: &[Industry] = &[
    Industry {
        suffix: "Motors",
        units: &["vehicles", "cars", "SUVs"],
        drugs: false,
    },
    Industry {
        suffix: "Pharma",
        units: &["batches", "packs"],
        drugs: true,
    },
    Industry {
        suffix: "Bank",
        units: &["accounts", "cards"],
        drugs: false,
    },
    Industry {
        suffix: "Airlines",
        units: &["seats", "flights"],
        drugs: false,
    },
    Industry {
        suffix: "Telecom",
        units: &["routers", "phones"],
        drugs: false,
    },
    Industry {
        suffix: "Systems",
        units: &["licenses", "servers"],
        drugs: false,
    },
    Industry {
        suffix: "Foods",
        units: &["packages", "products", "jars"],
        drugs: false,
    },
    Industry {
        suffix: "Energy",
        units: &["meters", "heaters"],
        drugs: false,
    },
    Industry {
        suffix: "Retail",
        units: &["items", "products"],
        drugs: false,
    },
    Industry {
        suffix: "Electronics",
        units: &["devices", "chargers", "units"],
        drugs: false,
    },
];

/// Company names are `ONSET + ENDING` ("Valex", "Norium"), each with one industry suffix.
pub const COMPANY_ONSETS: &[&str] = &[
    "Ar", "Bel", "Cor", "Dra", "Ev", "Fen", "Gal", "Hal", "Ir", "Jor", "Kel", "Lum", "Mor", "Nor",
    "Oz", "Pel", "Quin", "Ros", "Sol", "Tor", "Ul", "Val", "Wex", "Zan", "Bram", "Cas", "Dun",
    "Ves",
];
pub const COMPANY_ENDINGS: &[&str] = &[
    "ant", "ex", "ora", "ium", "ova", "ix", "ent", "ara", "on", "ell", "ico", "usk",
];

/// Middles of company names coined for worlds larger than the base list ("Cor" + "al" + "ex").
pub const NAME_MIDDLES: &[&str] = &[
    "a", "e", "i", "o", "ar", "el", "in", "or", "an", "en", "il", "os", "ur", "av", "em", "ad",
];

/// Roots of surnames and place names coined for worlds larger than the base lists.
pub const COINED_ROOTS: &[&str] = &[
    "Ash", "Black", "Brook", "Cald", "Dal", "Fair", "Gold", "Hart", "Kings", "Lind", "Mar", "Mont",
    "North", "Pem", "Red", "Rock", "Stan", "Thorn", "Wake", "West", "Wind", "Harl", "Kerr", "Merr",
    "Pell", "Roth", "Sand", "Tall", "Vance", "Ald", "Bex", "Carr", "Dorn", "Elm", "Fox", "Grey",
    "Holm", "Lang", "Oak", "Whit",
];

/// Middles of coined surnames and place names ("Ash" + "er" + "wood").
pub const COINED_MIDDLES: &[&str] = &["er", "in", "a", "el", "en", "or", "ing", "es"];

/// Endings of coined surnames.
pub const SURNAME_ENDINGS: &[&str] = &[
    "wood", "ford", "ley", "ton", "well", "by", "more", "son", "wick", "field", "stone", "worth",
    "hart", "combe", "ridge", "dale", "mont", "ham", "croft", "shaw", "man", "ling", "ett", "ard",
];

/// Endings of coined place names.
pub const PLACE_ENDINGS: &[&str] = &[
    "ton", "bury", "field", "mouth", "ham", "wick", "stead", "haven", "port", "dale", "ford",
    "minster", "borough", "ville", "mere", "gate",
];

pub const PRODUCT_WORDS: &[&str] = &[
    "Aria", "Pulse", "Nimbus", "Vista", "Orbit", "Zephyr", "Echo", "Nova", "Summit", "Atlas",
    "Flux", "Ember", "Halo", "Vertex", "Quartz", "Terra", "Lumen", "Cobalt", "Falcon", "Ridge",
    "Strata", "Drift", "Glide", "Spark", "Tundra", "Mistral", "Sable", "Kite", "Juniper", "Onyx",
];
pub const PRODUCT_MODELS: &[&str] = &[
    "", "", " X", " 2", " Pro", " Max", " S3", " Mini", " 5", " Air",
];
pub const DRUGS: &[&str] = &[
    "Velotrex",
    "Caldimab",
    "Orzanil",
    "Prexitol",
    "Lumavir",
    "Tenzaril",
    "Dorvexa",
    "Milocept",
    "Zentavia",
    "Quorzine",
    "Belanext",
    "Fostrazol",
    "Ivoralin",
    "Nepravex",
    "Sotelmab",
    "Ardiquin",
];

pub const FIRST_NAMES: &[&str] = &[
    "Amara", "Ben", "Carla", "Dmitri", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jonah", "Keiko",
    "Liam", "Maya", "Nikhil", "Olga", "Pablo", "Quinn", "Rosa", "Samuel", "Tara", "Umar", "Vera",
    "Wendell", "Ximena", "Yusuf", "Zoë", "Adrian", "Beatrix", "Cyrus", "Delia", "Emil", "Fiona",
    "Gideon", "Hana", "Isaac", "José", "Kira", "Leon", "Marisol", "Noor", "Oscar", "Priya",
    "Renée", "Stellan", "Theo", "Ulla", "Victor", "Willa", "Søren", "Anika",
];
pub const LAST_NAMES: &[&str] = &[
    "Abernathy",
    "Brightwater",
    "Castellano",
    "Dunmore",
    "Eckhart",
    "Falkner",
    "Galloway",
    "Hargreave",
    "Ingersoll",
    "Jablonski",
    "Kowalczyk",
    "Lindqvist",
    "Marchetti",
    "Nakamura",
    "Okonkwo",
    "Pemberton",
    "Quillon",
    "Ravensworth",
    "Szabo",
    "Thornbury",
    "Underhill",
    "Vasquez-Lind",
    "Whitlock",
    "Yarrow",
    "Zielinski",
    "Ashdown",
    "Blackwood",
    "Cromarty",
    "Delacroix",
    "Emberly",
    "Fairweather",
    "Greenhalgh",
    "Holloway",
    "Iverson",
    "Jessop",
    "Kettering",
    "Lockridge",
    "Merriweather",
    "Northcott",
    "Oyelaran",
    "Prescott",
    "Rutherford",
    "Sandoval",
    "Tremaine",
    "Umberfield",
    "Valdivia",
    "Westbrook",
    "Xiang",
    "Yoshida",
    "Zamora",
    "Albrecht",
    "Bancroft",
    "Chandrasekar",
    "Draycott",
    "Esposito",
    "Fitzwilliam",
    "Goldberg",
    "Haverford",
    "Ibarra",
    "Kincaid",
    "Llewellyn",
    "Montague",
    "Nightingale",
    "Ostrowski",
    "Pellegrino",
    "Radcliffe",
    "Sorensen",
    "Templeton",
    "Vandermeer",
    "Winterbourne",
];
/// Roles written before a person's name in some headlines ("Senator Ada Holloway").
pub const CANDIDATE_ROLES: &[&str] = &["Mayor", "Senator", "Governor", "Councillor", "Rep."];

/// Invented place stems; each becomes one place through `PLACE_FORMS`.
pub const PLACE_STEMS: &[&str] = &[
    "Alder",
    "Bramford",
    "Corvin",
    "Dunlow",
    "Elsmere",
    "Farrowby",
    "Glenhollow",
    "Harrowgate",
    "Ivybridge",
    "Kestrel",
    "Larkmoor",
    "Millbrook",
    "Northam",
    "Oakhurst",
    "Pennington",
    "Quarrydale",
    "Redhaven",
    "Stonecroft",
    "Thistlewood",
    "Umberton",
    "Vellmar",
    "Westmarch",
    "Yarrowfield",
    "Ashcombe",
    "Brackenridge",
    "Coldwater",
    "Deepwell",
    "Eastwick",
    "Foxmere",
    "Greyport",
    "Hollins",
    "Juniper",
    "Kingsmere",
    "Lowther",
    "Marlow",
    "Nettlebed",
    "Orchard",
    "Pinecrest",
    "Ravensholm",
    "Saltmarsh",
    "Tidewater",
    "Upton",
    "Violet",
    "Willowmere",
    "Brightmoor",
    "Cinder",
    "Duskfall",
    "Emberton",
    "Fallowfield",
    "Gallowmere",
    "São Terrin",
    "Montclair-sur-Lune",
    "Rivermouth",
    "Sandhaven",
];
pub const PLACE_FORMS: &[&str] = &[
    "{}",
    "Port {}",
    "{} Valley",
    "New {}",
    "{} County",
    "Lake {}",
    "{} Heights",
    "North {}",
];

pub const REGULATORS: &[&str] = &[
    "Consumer Safety Board",
    "Federal Trade Office",
    "National Transport Agency",
    "Financial Conduct Bureau",
    "Drug Review Council",
    "Competition Commission",
    "Data Protection Authority",
    "Energy Regulatory Office",
    "Aviation Safety Directorate",
    "Food Standards Commission",
];
pub const UNIONS: &[&str] = &[
    "United Metalworkers",
    "Transport Workers Guild",
    "Retail Staff Union",
    "Flight Crew Association",
    "Food Workers Alliance",
    "Energy Workers Union",
    "Allied Dockworkers",
    "Technical Staff Federation",
];
pub const INVESTORS: &[&str] = &[
    "Northgate Ventures",
    "Bluepeak Capital",
    "Harborview Partners",
    "Silverfern Capital",
    "Ironwood Equity",
    "Meridian Growth Fund",
    "Copperline Ventures",
    "Tallgrass Partners",
    "Lighthouse Capital",
    "Granite Arc Ventures",
];
pub const AGENCIES: &[&str] = &[
    "Regional Weather Center",
    "Storm Prediction Unit",
    "Coastal Forecast Office",
    "Emergency Management Office",
    "State Fire Service",
];
pub const MASCOTS: &[&str] = &[
    "Falcons",
    "Rovers",
    "Titans",
    "Comets",
    "Wolves",
    "Mariners",
    "Stallions",
    "Hornets",
    "Pioneers",
    "Rangers",
    "Otters",
    "Thunder",
    "Foxes",
    "Kingfishers",
    "Miners",
    "Lynx",
];

/// Outlets: `PREFIX + MASTHEAD` ("Daily Herald" at www.dailyherald-example.com).
pub const OUTLET_PREFIXES: &[&str] = &[
    "Daily",
    "Morning",
    "Evening",
    "Northern",
    "Southern",
    "Coastal",
    "Valley",
    "Metro",
    "City",
    "County",
    "National",
    "Capital",
    "Harbor",
    "Prairie",
    "Lakeside",
    "Riverside",
    "Highland",
    "Bay",
    "Sunday",
    "Weekly",
    "Westside",
    "Frontier",
];
pub const OUTLET_MASTHEADS: &[&str] = &[
    "Herald",
    "Gazette",
    "Tribune",
    "Chronicle",
    "Courier",
    "Post",
    "Times",
    "Journal",
    "Observer",
    "Sentinel",
    "Ledger",
    "Dispatch",
    "Examiner",
    "Record",
    "Star",
    "Beacon",
    "Register",
    "Press",
    "Bulletin",
    "Monitor",
];
/// Wire services and aggregators, the biggest publishers.
pub const WIRES: &[(&str, &str)] = &[
    ("Newswire Central", "www.newswirecentral-example.com"),
    ("Global Press Agency", "www.globalpressagency-example.net"),
    ("Market Pulse", "news.marketpulse-example.com"),
    ("The Daily Brief", "www.thedailybrief-example.org"),
    ("Headline Hub", "headlinehub-example.com"),
    ("Wire Street", "www.wirestreet-example.com"),
    ("Signal News", "signalnews-example.io"),
    ("Metro Newsroom", "www.metronewsroom-example.co.uk"),
];

/// What kind of entity fills a slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntityKind {
    Company,
    Person,
    Candidate,
    Place,
    Team,
    Union,
    Investor,
    Agency,
    Regulator,
    None,
}

/// How the story's number (`{X}`) is drawn and written.
#[derive(Clone, Copy, Debug)]
pub enum Detail {
    /// A count such as "12,000", rounded to two significant digits.
    Count(u64, u64),
    /// Money in millions, written "$350 million" or "$4.2 billion".
    Money(u64, u64),
    Percent(u64, u64),
    /// A match score "3-1".
    Score,
    /// Prison years.
    Years,
    /// A product price "$499".
    Price,
}

/// A kind of news event with its own words.
pub struct EventType {
    pub key: &'static str,
    /// Kind of the primary entity `{A}`.
    pub primary: EntityKind,
    /// Allowed industries when `primary` is a company (bit mask).
    pub industries: u16,
    /// Kind of the secondary entity `{B}`.
    pub second: EntityKind,
    pub detail: Detail,
    pub topics: &'static [&'static str],
    /// Nouns for the event ("recall"), used by frames as `{N}`.
    pub nouns: &'static [&'static str],
    /// Core clauses. Slots: A B P (product) U (unit noun) R (regulator) L (place) X (number)
    /// C (context).
    pub cores: &'static [&'static str],
    pub contexts: &'static [&'static str],
    /// Reaction clauses, lower case, for "{A} {N}: {reaction}" and "{core} as {reaction}".
    pub reactions: &'static [&'static str],
}

pub const EVENTS: &[EventType] = &[
    EventType {
        key: "recall",
        primary: EntityKind::Company,
        industries: MOTORS | PHARMA | FOODS | DEVICES | TELECOM,
        second: EntityKind::Regulator,
        detail: Detail::Count(800, 400_000),
        topics: &["business", "consumer"],
        nouns: &["recall", "safety recall", "product recall"],
        cores: &[
            "{A} (recalls|pulls|withdraws) {X} {P} {U}",
            "{A} (recalls|pulls) {P} {U} over {C}",
            "{A} issues [voluntary ]recall of {P} {U}",
            "{A} to recall {X} {U} over {C}",
            "{P} recall (widens|expands) to {X} {U}",
            "{R} (orders|tells) {A} to recall {P} {U}",
            "{X} {A} {P} {U} recalled (over|due to) {C}",
        ],
        contexts: &[
            "fire risk",
            "faulty brakes",
            "battery overheating",
            "contamination fears",
            "a wiring defect",
            "labeling errors",
            "a choking hazard",
            "a software glitch",
        ],
        reactions: &[
            "shares (slide|fall)",
            "customers seek refunds",
            "regulators open inquiry",
            "dealers halt sales",
            "what owners need to know",
        ],
    },
    EventType {
        key: "merger",
        primary: EntityKind::Company,
        industries: 0xFFFF,
        second: EntityKind::Company,
        detail: Detail::Money(300, 48_000),
        topics: &["business", "finance"],
        nouns: &["merger", "takeover", "deal", "acquisition"],
        cores: &[
            "{A} (agrees to buy|to acquire|to buy) {B} (for|in) {X} deal",
            "{A} and {B} (agree to merge|announce merger)",
            "{A} (nears|clinches|seals) {X} deal for {B}",
            "{B} board (backs|approves) {A} takeover",
            "{A} makes {X} (offer|bid) for {B}",
            "{A}-{B} merger (faces|draws) {C}",
        ],
        contexts: &[
            "antitrust scrutiny",
            "investor pushback",
            "a regulatory review",
            "union concerns",
            "a rival bid",
        ],
        reactions: &[
            "shares (jump|soar)",
            "regulators signal review",
            "analysts question (price|timing)",
            "what it means for customers",
        ],
    },
    EventType {
        key: "lawsuit",
        primary: EntityKind::Company,
        industries: 0xFFFF,
        second: EntityKind::Company,
        detail: Detail::Money(5, 2_500),
        topics: &["business"],
        nouns: &["lawsuit", "legal battle", "court fight"],
        cores: &[
            "{B} sues {A} over {C}",
            "{A} (sued|hit with lawsuit) over {C}",
            "{A} faces {X} lawsuit (from|by) {B}",
            "{B} files [{X} ]lawsuit against {A}",
            "Judge (allows|clears) {B} lawsuit against {A} to proceed",
            "{A} (settles|moves to dismiss) {B} lawsuit",
        ],
        contexts: &[
            "patent infringement",
            "unpaid royalties",
            "breach of contract",
            "misleading advertising",
            "trade secrets",
            "privacy violations",
        ],
        reactions: &["{A} vows to fight", "shares dip", "experts weigh damages"],
    },
    EventType {
        key: "earnings_beat",
        primary: EntityKind::Company,
        industries: 0xFFFF,
        second: EntityKind::None,
        detail: Detail::Percent(4, 60),
        topics: &["business", "finance"],
        nouns: &["earnings", "results", "quarter"],
        cores: &[
            "{A} (profit|quarterly profit|earnings) (jumps|surges|rises) {X}",
            "{A} beats (estimates|forecasts) on {C}",
            "{A} (raises|lifts) (outlook|guidance) after strong quarter",
            "{A} shares (jump|soar) after (earnings|results) beat",
            "{A} reports {X} (rise|jump) in (revenue|sales)",
        ],
        contexts: &[
            "strong demand",
            "cost cuts",
            "record holiday sales",
            "higher prices",
            "cloud growth",
        ],
        reactions: &[
            "shares (rally|climb)",
            "analysts raise targets",
            "investors cheer",
        ],
    },
    EventType {
        key: "earnings_miss",
        primary: EntityKind::Company,
        industries: 0xFFFF,
        second: EntityKind::None,
        detail: Detail::Percent(3, 70),
        topics: &["business", "finance"],
        nouns: &["earnings", "results", "profit warning"],
        cores: &[
            "{A} (profit|earnings) (falls|drops|slumps) {X}",
            "{A} misses (estimates|forecasts) (as|amid) {C}",
            "{A} (cuts|lowers) (outlook|guidance) [for the year]",
            "{A} shares (tumble|sink|slide) after (earnings|results) miss",
            "{A} (warns|issues warning) on (profit|sales)",
        ],
        contexts: &[
            "weak demand",
            "rising costs",
            "supply problems",
            "currency headwinds",
            "a slowdown in orders",
        ],
        reactions: &[
            "shares (slump|tumble)",
            "analysts cut targets",
            "investors flee",
        ],
    },
    EventType {
        key: "launch",
        primary: EntityKind::Company,
        industries: DEVICES | TECH | MOTORS | TELECOM,
        second: EntityKind::Company,
        detail: Detail::Price,
        topics: &["technology", "consumer"],
        nouns: &["launch", "unveiling", "product launch"],
        cores: &[
            "{A} (unveils|launches|introduces|debuts) [new ]{P}",
            "{A} (unveils|launches) {P} (priced at|starting at|for) {X}",
            "First look at {A}'s [new ]{P}",
            "{A} (takes on|challenges) {B} with [new ]{P}",
            "{A} {P} (goes on sale|arrives|ships) (next week|this month|in {L})",
        ],
        contexts: &[
            "a crowded market",
            "slowing sales",
            "supply constraints",
            "rising competition",
        ],
        reactions: &[
            "early reviews are mixed",
            "preorders open",
            "fans line up",
            "price draws criticism",
        ],
    },
    EventType {
        key: "election",
        primary: EntityKind::Candidate,
        industries: 0,
        second: EntityKind::Person,
        detail: Detail::Percent(38, 71),
        topics: &["politics"],
        nouns: &["election", "vote", "race"],
        cores: &[
            "{A} wins {L} (mayoral|governor's|council) race",
            "{A} (defeats|beats|edges out) {B} in {L} [mayoral ]race",
            "{A} (leads|holds lead over) {B} as votes are counted",
            "{L} election: {A} (claims victory|declares victory|wins with {X})",
            "{B} concedes to {A} in {L}",
            "Recount (sought|requested) in {L} race between {A} and {B}",
        ],
        contexts: &[
            "record turnout",
            "a tight race",
            "recount calls",
            "ballot delays",
            "a bitter campaign",
        ],
        reactions: &[
            "turnout hits record",
            "supporters celebrate",
            "rival demands recount",
        ],
    },
    EventType {
        key: "storm",
        primary: EntityKind::Place,
        industries: 0,
        second: EntityKind::Agency,
        detail: Detail::Count(2_000, 600_000),
        topics: &["weather", "world"],
        nouns: &["storm", "blizzard", "flooding"],
        cores: &[
            "(Storm|Winter storm|Severe storm) (batters|slams|pounds|hits) {A}",
            "{X} (homes|households) (lose|without) power (as|after) storm (hits|batters) {A}",
            "{A} (braces|prepares) for (severe|major) storm",
            "(Flooding|Heavy rain|Strong winds) (shuts|closes) (roads|schools) in {A}",
            "{B} issues (warning|alert) for {A} (as|amid) {C}",
        ],
        contexts: &[
            "heavy snowfall",
            "flash flooding",
            "hurricane-force winds",
            "freezing rain",
            "power outages",
        ],
        reactions: &[
            "crews restore power",
            "schools closed",
            "flights cancelled",
            "residents told to stay home",
        ],
    },
    EventType {
        key: "outage",
        primary: EntityKind::Company,
        industries: TELECOM | TECH | BANK | AIRLINES,
        second: EntityKind::Regulator,
        detail: Detail::Count(20_000, 9_000_000),
        topics: &["technology", "business"],
        nouns: &["outage", "service outage", "disruption"],
        cores: &[
            "{A} (outage|service outage) (hits|affects|disrupts) {X} (users|customers)",
            "{A} (services|app|network) (down|restored) (after|following) {C}",
            "{A} (blames|cites) {C} for (outage|disruption)",
            "(Users|Customers) report (problems|outages) with {A}",
            "{A} (apologizes|apologises) for [hours-long ]outage",
        ],
        contexts: &[
            "a software update",
            "a cyberattack",
            "a data center fire",
            "a configuration error",
            "a power failure",
        ],
        reactions: &[
            "customers fume",
            "service slowly returns",
            "regulator demands answers",
        ],
    },
    EventType {
        key: "strike",
        primary: EntityKind::Company,
        industries: MOTORS | AIRLINES | FOODS | RETAIL | ENERGY,
        second: EntityKind::Union,
        detail: Detail::Count(300, 60_000),
        topics: &["business", "world"],
        nouns: &["strike", "walkout", "labor dispute"],
        cores: &[
            "{X} {A} workers (walk out|go on strike|strike) over {C}",
            "{B} (calls|announces|extends) strike at {A}",
            "{A} strike (enters|drags into) (second|third) (day|week)",
            "{A} and {B} (resume|break off) talks as strike (continues|drags on)",
            "{A} workers (end strike|ratify deal)[ after {C} dispute]",
        ],
        contexts: &[
            "pay",
            "pensions",
            "working hours",
            "job cuts",
            "safety rules",
        ],
        reactions: &["picket lines grow", "production halted", "talks stall"],
    },
    EventType {
        key: "trial",
        primary: EntityKind::Person,
        industries: 0,
        second: EntityKind::Person,
        detail: Detail::Years,
        topics: &["world", "business"],
        nouns: &["trial", "fraud trial", "court case"],
        cores: &[
            "{A} trial (opens|begins|starts) in {L}",
            "(Jury|Judge) (hears|weighs) (evidence|testimony) in {A} trial",
            "{A} (found guilty|acquitted|convicted) (of|on) {C} (charges|counts)",
            "{A} (testifies|takes the stand) in {C} trial",
            "Prosecutors (seek|ask for) {X} years for {A}",
            "{B} (testifies|appears) at trial of {A}",
        ],
        contexts: &[
            "fraud",
            "bribery",
            "insider trading",
            "tax evasion",
            "embezzlement",
        ],
        reactions: &[
            "jury begins deliberations",
            "defense rests",
            "verdict expected soon",
        ],
    },
    EventType {
        key: "layoffs",
        primary: EntityKind::Company,
        industries: 0xFFFF,
        second: EntityKind::None,
        detail: Detail::Count(120, 25_000),
        topics: &["business"],
        nouns: &["layoffs", "job cuts", "restructuring"],
        cores: &[
            "{A} (to cut|cuts|slashes|eliminates) {X} jobs",
            "{A} (announces|plans) {X} layoffs (amid|as part of) {C}",
            "{A} (lays off|to lay off) {X} workers in {L}",
            "{A} (job cuts|layoffs) (hit|reach) {X}",
        ],
        contexts: &[
            "a restructuring",
            "slowing demand",
            "cost pressures",
            "an automation push",
            "weak sales",
        ],
        reactions: &["staff react", "union vows to fight", "shares edge higher"],
    },
    EventType {
        key: "breach",
        primary: EntityKind::Company,
        industries: BANK | TELECOM | RETAIL | TECH,
        second: EntityKind::Regulator,
        detail: Detail::Count(10_000, 40_000_000),
        topics: &["technology", "business"],
        nouns: &["data breach", "hack", "cyberattack"],
        cores: &[
            "{A} (data breach|hack) (exposes|affects) {X} (customers|accounts|records)",
            "{A} (confirms|discloses|reports) (data breach|cyberattack)",
            "Hackers (steal|access) data of {X} {A} customers",
            "{R} (investigates|probes) {A} [data ]breach",
            "{A} (blames|links breach to) {C}",
        ],
        contexts: &[
            "a ransomware attack",
            "a phishing campaign",
            "a third-party vendor",
            "stolen passwords",
        ],
        reactions: &[
            "customers urged to reset passwords",
            "regulator steps in",
            "shares slip",
        ],
    },
    EventType {
        key: "funding",
        primary: EntityKind::Company,
        industries: TECH | DEVICES | PHARMA,
        second: EntityKind::Investor,
        detail: Detail::Money(8, 900),
        topics: &["technology", "finance"],
        nouns: &["funding round", "raise", "investment"],
        cores: &[
            "{A} (raises|secures|lands) {X}[ in (new funding|Series B|Series C)]",
            "{B} (leads|backs) {X} (round|funding round) (in|for) {A}",
            "{A} (funding|raise) (signals|reflects) {C}",
            "{A} (gets|wins) {X} from {B} [to expand]",
        ],
        contexts: &[
            "investor appetite for AI",
            "a rebound in venture funding",
            "expansion plans",
            "rapid growth",
        ],
        reactions: &[
            "valuation soars",
            "rivals take note",
            "hiring spree planned",
        ],
    },
    EventType {
        key: "probe",
        primary: EntityKind::Company,
        industries: 0xFFFF,
        second: EntityKind::Regulator,
        detail: Detail::Money(2, 900),
        topics: &["business", "politics"],
        nouns: &["probe", "investigation", "inquiry"],
        cores: &[
            "{R} (opens|launches) (probe|investigation|inquiry) into {A}[ over {C}]",
            "{A} (under investigation|faces probe) (over|for) {C}",
            "{R} (raids|subpoenas) {A} (offices|executives)",
            "{A} (cooperating|cooperates) with {R} (probe|inquiry)",
            "{A} could face {X} fine over {C}",
        ],
        contexts: &[
            "pricing practices",
            "safety lapses",
            "accounting irregularities",
            "emissions data",
            "anticompetitive conduct",
        ],
        reactions: &[
            "shares slide",
            "executives questioned",
            "company denies wrongdoing",
        ],
    },
    EventType {
        key: "resignation",
        primary: EntityKind::Person,
        industries: 0,
        second: EntityKind::Company,
        detail: Detail::Percent(2, 18),
        topics: &["business"],
        nouns: &["exit", "departure", "resignation"],
        cores: &[
            "{B} (CEO|chief executive) {A} (steps down|resigns|quits)",
            "{A} (to step down|resigns) as {B} (CEO|chief)",
            "{B} (names|appoints) (new CEO|successor) after {A} (exit|departure)",
            "{A} (exit|departure) (rattles|shakes) {B} (investors|shares)",
            "{B} shares (drop|fall) {X} after {A} (quits|resigns)",
        ],
        contexts: &[
            "a board dispute",
            "health reasons",
            "pressure from investors",
            "a misconduct inquiry",
        ],
        reactions: &["board begins search", "shares wobble", "staff told in memo"],
    },
    EventType {
        key: "wildfire",
        primary: EntityKind::Place,
        industries: 0,
        second: EntityKind::Agency,
        detail: Detail::Count(400, 90_000),
        topics: &["weather", "world"],
        nouns: &["wildfire", "blaze", "fire"],
        cores: &[
            "Wildfire (near|outside) {A} (grows|spreads) to {X} acres",
            "(Thousands|Residents) (evacuate|flee) (as|after) wildfire (nears|threatens) {A}",
            "Firefighters (battle|gain ground on) {A} (blaze|wildfire)",
            "{B} orders evacuations (near|around) {A} (amid|as) {C}",
        ],
        contexts: &[
            "dry winds",
            "record heat",
            "drought conditions",
            "shifting winds",
        ],
        reactions: &["evacuations expand", "containment grows", "homes destroyed"],
    },
    EventType {
        key: "championship",
        primary: EntityKind::Team,
        industries: 0,
        second: EntityKind::Team,
        detail: Detail::Score,
        topics: &["sports"],
        nouns: &["title", "championship", "cup win"],
        cores: &[
            "{A} (beat|defeat|edge) {B} {X} to (win|claim|clinch) (title|championship|cup)",
            "{A} (win|clinch|claim) (title|championship) with {X} (win|victory) over {B}",
            "{B} (fall|lose) to {A} in (final|championship game)",
            "{A} (celebrate|parade) (title|championship) in {L}",
            "{A} (clinch|seal) (title|cup) after {C}",
        ],
        contexts: &[
            "a late goal",
            "overtime",
            "a dominant season",
            "a penalty shootout",
        ],
        reactions: &[
            "fans flood streets",
            "coach hails players",
            "parade planned",
        ],
    },
    EventType {
        key: "price_hike",
        primary: EntityKind::Company,
        industries: FOODS | ENERGY | TELECOM | AIRLINES | RETAIL,
        second: EntityKind::Regulator,
        detail: Detail::Percent(3, 35),
        topics: &["business", "consumer"],
        nouns: &["price hike", "price increase", "rate rise"],
        cores: &[
            "{A} (raises|hikes|lifts) prices by {X}",
            "{A} to (raise|increase) (prices|fares|rates) {X} (amid|citing) {C}",
            "Customers (angry|fume) (at|over) {A} {X} price (hike|rise)",
            "{R} (questions|reviews) {A} price (hike|increase)",
        ],
        contexts: &[
            "higher costs",
            "inflation",
            "supply shortages",
            "rising wages",
        ],
        reactions: &[
            "customers push back",
            "rivals hold prices",
            "regulator watching",
        ],
    },
    EventType {
        key: "approval",
        primary: EntityKind::Company,
        industries: PHARMA,
        second: EntityKind::Regulator,
        detail: Detail::Money(200, 9_000),
        topics: &["health", "science"],
        nouns: &["approval", "drug approval", "green light"],
        cores: &[
            "{R} (approves|clears) {A} (drug|treatment) {P}[ for {C}]",
            "{A} (wins|gets|secures) approval for {P}",
            "{A} {P} (approval|green light) (boosts|lifts) shares",
            "{A} expects {X} in {P} sales after approval",
        ],
        contexts: &[
            "migraine",
            "obesity",
            "a rare blood disorder",
            "asthma",
            "sleep apnea",
        ],
        reactions: &[
            "shares surge",
            "doctors welcome option",
            "price questions loom",
        ],
    },
];

/// Speakers appended as "{core}, analysts say".
pub const SPEAKERS: &[(&str, &str)] = &[
    ("analysts", "say"),
    ("officials", "say"),
    ("sources", "say"),
    ("experts", "say"),
    ("a report", "says"),
    ("people familiar with the matter", "say"),
];

/// Frames around a core clause. `{core}` is the clause, `{Acap}` the primary entity,
/// `{N}` an event noun, `{reaction}` a reaction, `{C2}` the story's second context,
/// `{spk}`/`{say}` a speaker, `{Bsay}` the secondary entity as speaker, `{L}` the place.
pub const FRAMES: &[&str] = &[
    "{core}",
    "{core}",
    "{core}",
    "{core}",
    "{core}",
    "{core}",
    "{core} amid {C2}",
    "{core} amid {C2}",
    "{core}, {spk} {say}",
    "{core}, {spk} {say}",
    "{Bsay} says {core}",
    "Report: {core}",
    "{core} - report",
    "{Acap} {N}: {reaction}",
    "{Acap} {N}: {reaction}",
    "What we know about the {Acap} {N}",
    "{core} as {reaction}",
    "Breaking: {core}",
    "{core} in {L}",
    "{Acap} {N} explained",
    "Live updates: {Acap} {N}",
    "(Exclusive|Analysis): {core}",
];

/// Short summary sentences; `{sentence}` is a core clause, `{day}` a weekday.
pub const SUMMARIES: &[&str] = &[
    "{sentence}, {spk} said on {day}. The (move|development) comes amid {C2}.",
    "{sentence}. (The news|The announcement) (follows|comes after) weeks of {C2}, according to {spk}.",
    "{sentence}, according to {spk}. (More details are expected|Further updates are expected) later this week.",
    "{sentence}. {spk_cap} (said|noted) the situation was still developing.",
];

pub const WEEKDAYS: &[&str] = &[
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
];

/// Collector types with relative weights.
pub const COLLECTORS: &[(&str, u32)] = &[
    ("chatgpt", 35),
    ("perplexity", 20),
    ("gemini", 20),
    ("claude", 15),
    ("copilot", 10),
];

/// Collector-result topics: (topic field, phrase used in answers, industry group 0..5).
pub const CR_TOPICS: &[(&str, &str, u8)] = &[
    ("crm-software", "CRM software", 0),
    ("project-management", "project management tools", 0),
    ("password-managers", "password managers", 0),
    ("cloud-storage", "cloud storage services", 0),
    ("video-conferencing", "video conferencing apps", 0),
    ("running-shoes", "running shoes", 1),
    ("electric-toothbrushes", "electric toothbrushes", 1),
    ("coffee-machines", "coffee machines", 1),
    ("mattresses", "mattresses", 1),
    ("robot-vacuums", "robot vacuums", 1),
    ("credit-cards", "travel credit cards", 2),
    ("budgeting-apps", "budgeting apps", 2),
    ("online-banks", "online banks", 2),
    ("travel-insurance", "travel insurance providers", 2),
    ("hotel-booking", "hotel booking sites", 3),
    ("budget-airlines", "budget airlines", 3),
    ("car-rental", "car rental companies", 3),
    ("meal-kits", "meal kit services", 4),
    ("plant-based-milk", "plant-based milk brands", 4),
    ("energy-drinks", "energy drinks", 4),
];
pub const CR_GROUPS: usize = 5;

/// Brand and competitor names: `HEAD + TAIL` ("Brightline", "Cloudnest").
pub const BRAND_HEADS: &[&str] = &[
    "Bright", "Cloud", "Swift", "True", "Blue", "Green", "Silver", "Peak", "North", "Clear",
    "Bold", "Quick", "Sun", "Iron", "Wild", "Pure", "Smart", "Open", "Red", "Star", "Oak", "Snow",
    "Coral", "Maple",
];
pub const BRAND_TAILS: &[&str] = &[
    "line", "nest", "path", "wave", "field", "point", "stack", "works", "ly", "hub", "base",
    "loop", "leaf", "stone", "gate", "bloom", "wise", "craft",
];

/// Strengths and weaknesses per group, for answer sentences.
pub const STRENGTHS: &[&[&str]] = &[
    &[
        "ease of use",
        "integrations",
        "reliable sync",
        "strong security",
        "fair pricing",
        "good mobile apps",
    ],
    &[
        "comfort",
        "durability",
        "battery life",
        "build quality",
        "value for money",
        "quiet operation",
    ],
    &[
        "low fees",
        "cashback rewards",
        "a clean app",
        "fast transfers",
        "good customer support",
        "clear pricing",
    ],
    &[
        "low prices",
        "flexible cancellation",
        "wide coverage",
        "loyalty perks",
        "punctuality",
        "easy booking",
    ],
    &[
        "taste",
        "recipe variety",
        "healthy ingredients",
        "sustainable packaging",
        "flexible plans",
        "low sugar",
    ],
];
pub const WEAKNESSES: &[&str] = &[
    "customer support can be slow",
    "pricing is on the high side",
    "the setup takes time",
    "availability is limited in some regions",
    "some reviewers report reliability issues",
    "the free tier is restrictive",
    "hidden fees have drawn complaints",
];
pub const INTROS: &[&str] = &[
    "Here are some of the most frequently recommended options for {t}.",
    "When choosing {t}, it helps to compare price, reliability and support.",
    "There is no single best choice of {t}; it depends on what you need most.",
    "Based on recent reviews and user feedback, several {t} stand out.",
    "If you are comparing {t}, these are the names that come up most often.",
];
pub const POSITIVE_LINES: &[&str] = &[
    "{n} is often praised for its {s}.",
    "{n} is a solid option if you care about {s}.",
    "Many users prefer {n} because of its {s}.",
    "{n} ranks highly for {s} and overall satisfaction.",
    "{n} stands out for {s}, which reviewers mention again and again.",
];
pub const NEUTRAL_LINES: &[&str] = &[
    "{n} is another option worth considering, especially for {s}.",
    "{n} offers {s}, although it is less widely reviewed.",
    "{n} is a reasonable middle-of-the-road choice.",
];
pub const NEGATIVE_LINES: &[&str] = &[
    "{n} is sometimes mentioned, but {w}.",
    "{n} has fans, though {w}.",
    "Some people choose {n}, but {w}.",
];
pub const OTHERS_LINES: &[&str] = &[
    "Other names that come up include {o1} and {o2}.",
    "You may also want to look at {o1} or {o2}.",
];
pub const FILLERS: &[&str] = &[
    "Prices and features change often, so check the latest details before you commit.",
    "Reading a few recent independent reviews is a good way to narrow the list.",
    "Most providers offer a trial period, which makes it easy to compare in practice.",
    "Consider how much you are willing to spend and which features you will actually use.",
    "Customer service quality varies by region, so local feedback is worth checking.",
];
pub const CLOSINGS: &[&str] = &[
    "Ultimately, the right choice depends on your budget and priorities.",
    "In short, shortlist two or three options and compare them side by side.",
    "Overall, any of these is a reasonable starting point.",
];
