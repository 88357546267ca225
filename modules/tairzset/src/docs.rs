//! COMMAND DOCS of every EXZ* command (summary, complexity and arguments from spec tairzset.md §3–§4),
//! so `COMMAND DOCS` is complete and valkey-cli shows argument hints.

use tair_common::module::arg_docs::{COUNT, KEY, MATCH, NX, XX};
use tair_common::module::{ArgDoc, ArgKind, CommandDoc};

const MEMBER: ArgDoc = ArgDoc::arg("member", ArgKind::String);
const MEMBERS: ArgDoc = ArgDoc::many("member", ArgKind::String);
const SCORE: ArgDoc = ArgDoc::arg("score", ArgKind::String);
const MIN: ArgDoc = ArgDoc::arg("min", ArgKind::String);
const MAX: ArgDoc = ArgDoc::arg("max", ArgKind::String);
const START: ArgDoc = ArgDoc::arg("start", ArgKind::Integer);
const STOP: ArgDoc = ArgDoc::arg("stop", ArgKind::Integer);
const WITHSCORES: ArgDoc = ArgDoc::flag("withscores", "WITHSCORES");
const LIMIT: ArgDoc = ArgDoc::opt("offset count", ArgKind::Integer, Some("LIMIT"));
const NUMKEYS: ArgDoc = ArgDoc::arg("numkeys", ArgKind::Integer);
const KEYS: ArgDoc = ArgDoc::many("key", ArgKind::Key);
const DEST: ArgDoc = ArgDoc::arg("destination", ArgKind::Key);
const WEIGHTS: ArgDoc = ArgDoc::opt("weight", ArgKind::Double, Some("WEIGHTS"));
const AGGREGATE: ArgDoc = ArgDoc::opt("sum|min|max", ArgKind::String, Some("AGGREGATE"));
const POP_COUNT: ArgDoc = ArgDoc::opt("count", ArgKind::Integer, None);
const TIMEOUT: ArgDoc = ArgDoc::arg("timeout", ArgKind::Double);

const RANGE: [ArgDoc; 4] = [KEY, START, STOP, WITHSCORES];
const BY_SCORE: [ArgDoc; 5] = [KEY, MIN, MAX, WITHSCORES, LIMIT];
const REV_BY_SCORE: [ArgDoc; 5] = [KEY, MAX, MIN, WITHSCORES, LIMIT];
const BY_LEX: [ArgDoc; 4] = [KEY, MIN, MAX, LIMIT];
const REV_BY_LEX: [ArgDoc; 4] = [KEY, MAX, MIN, LIMIT];
const RANK: [ArgDoc; 3] = [KEY, MEMBER, ArgDoc::flag("withscore", "WITHSCORE")];
const STORE_AGG: [ArgDoc; 5] = [DEST, NUMKEYS, KEYS, WEIGHTS, AGGREGATE];
const AGG: [ArgDoc; 5] = [NUMKEYS, KEYS, WEIGHTS, AGGREGATE, WITHSCORES];
const POP: [ArgDoc; 2] = [KEY, POP_COUNT];
const BLOCKING_POP: [ArgDoc; 2] = [KEYS, TIMEOUT];

const RANGE_COST: &str = "O(log(N)+M) with N members and M returned";

pub static DOCS: [CommandDoc; 34] = [
    CommandDoc::new(
        "exzadd",
        "Adds members with multi-dimensional scores (s1#s2#...), or updates their scores",
        "O(M*log(N)) for M pairs",
        &[
            KEY,
            NX,
            XX,
            ArgDoc::flag("ch", "CH"),
            ArgDoc::flag("incr", "INCR"),
            ArgDoc::many("score member", ArgKind::String),
        ],
    ),
    CommandDoc::new(
        "exzincrby",
        "Adds an increment tuple to a member's score",
        "O(log(N))",
        &[KEY, ArgDoc::arg("increment", ArgKind::String), MEMBER],
    ),
    CommandDoc::new(
        "exzscore",
        "Returns a member's score",
        "O(1)",
        &[KEY, MEMBER],
    ),
    CommandDoc::new(
        "exzmscore",
        "Returns the scores of several members",
        "O(M) for M members",
        &[KEY, MEMBERS],
    ),
    CommandDoc::new(
        "exzrange",
        "Returns members by ascending rank",
        RANGE_COST,
        &RANGE,
    ),
    CommandDoc::new(
        "exzrevrange",
        "Returns members by descending rank",
        RANGE_COST,
        &RANGE,
    ),
    CommandDoc::new(
        "exzrangebyscore",
        "Returns members within score bounds (a bound may give a prefix of the dimensions)",
        RANGE_COST,
        &BY_SCORE,
    ),
    CommandDoc::new(
        "exzrevrangebyscore",
        "Returns members within score bounds, highest first",
        RANGE_COST,
        &REV_BY_SCORE,
    ),
    CommandDoc::new(
        "exzrangebylex",
        "Returns members within lexicographic bounds",
        RANGE_COST,
        &BY_LEX,
    ),
    CommandDoc::new(
        "exzrevrangebylex",
        "Returns members within lexicographic bounds, highest first",
        RANGE_COST,
        &REV_BY_LEX,
    ),
    CommandDoc::new(
        "exzrem",
        "Removes members",
        "O(M*log(N)) for M members",
        &[KEY, MEMBERS],
    ),
    CommandDoc::new(
        "exzremrangebyscore",
        "Removes the members within score bounds",
        "O(log(N)+M) with M removed",
        &[KEY, MIN, MAX],
    ),
    CommandDoc::new(
        "exzremrangebyrank",
        "Removes the members within a rank range",
        "O(log(N)+M) with M removed",
        &[KEY, START, STOP],
    ),
    CommandDoc::new(
        "exzremrangebylex",
        "Removes the members within lexicographic bounds",
        "O(log(N)+M) with M removed",
        &[KEY, MIN, MAX],
    ),
    CommandDoc::new("exzcard", "Returns the number of members", "O(1)", &[KEY]),
    CommandDoc::new(
        "exzrank",
        "Returns a member's ascending rank (and score)",
        "O(log(N))",
        &RANK,
    ),
    CommandDoc::new(
        "exzrevrank",
        "Returns a member's descending rank (and score)",
        "O(log(N))",
        &RANK,
    ),
    CommandDoc::new(
        "exzrankbyscore",
        "Returns how many members have a score below the given one",
        "O(log(N))",
        &[KEY, SCORE],
    ),
    CommandDoc::new(
        "exzrevrankbyscore",
        "Returns how many members have a score at or above the given one",
        "O(log(N))",
        &[KEY, SCORE],
    ),
    CommandDoc::new(
        "exzcount",
        "Counts the members within score bounds",
        "O(log(N))",
        &[KEY, MIN, MAX],
    ),
    CommandDoc::new(
        "exzlexcount",
        "Counts the members within lexicographic bounds",
        "O(log(N))",
        &[KEY, MIN, MAX],
    ),
    CommandDoc::new(
        "exzrandmember",
        "Returns random members (distinct with a positive count, repeats allowed with a negative one)",
        "O(M*log(N)) for M returned",
        &[
            KEY,
            ArgDoc::opt("count", ArgKind::Integer, None),
            WITHSCORES,
        ],
    ),
    CommandDoc::new(
        "exzscan",
        "Iterates over members and scores",
        "O(1) per call, O(N) for a full iteration",
        &[KEY, ArgDoc::arg("cursor", ArgKind::Integer), MATCH, COUNT],
    ),
    CommandDoc::new(
        "exzunionstore",
        "Stores the union of sets, with weights and aggregation",
        "O(N)+O(M*log(M)) with N input members and M in the result",
        &STORE_AGG,
    ),
    CommandDoc::new(
        "exzinterstore",
        "Stores the intersection of sets, with weights and aggregation",
        "O(N*K)+O(M*log(M)) with N the smallest input, K inputs, M in the result",
        &STORE_AGG,
    ),
    CommandDoc::new(
        "exzdiffstore",
        "Stores the members of the first set absent from the others",
        "O(L+(N-K)*log(N)) with L input members",
        &[DEST, NUMKEYS, KEYS],
    ),
    CommandDoc::new(
        "exzunion",
        "Returns the union of sets, with weights and aggregation",
        "O(N)+O(M*log(M)) with N input members and M in the result",
        &AGG,
    ),
    CommandDoc::new(
        "exzinter",
        "Returns the intersection of sets, with weights and aggregation",
        "O(N*K)+O(M*log(M)) with N the smallest input, K inputs, M in the result",
        &AGG,
    ),
    CommandDoc::new(
        "exzdiff",
        "Returns the members of the first set absent from the others",
        "O(L+(N-K)*log(N)) with L input members",
        &[NUMKEYS, KEYS, WITHSCORES],
    ),
    CommandDoc::new(
        "exzintercard",
        "Returns the size of the intersection of sets (stopping at LIMIT)",
        "O(N*K) with N the smallest input and K inputs",
        &[
            NUMKEYS,
            KEYS,
            ArgDoc::opt("limit", ArgKind::Integer, Some("LIMIT")),
        ],
    ),
    CommandDoc::new(
        "exzpopmin",
        "Removes and returns the members with the lowest scores",
        "O(M*log(N)) for M popped",
        &POP,
    ),
    CommandDoc::new(
        "exzpopmax",
        "Removes and returns the members with the highest scores",
        "O(M*log(N)) for M popped",
        &POP,
    ),
    CommandDoc::new(
        "exbzpopmin",
        "Removes and returns the lowest member of the first non-empty set, blocking until one exists",
        "O(log(N))",
        &BLOCKING_POP,
    ),
    CommandDoc::new(
        "exbzpopmax",
        "Removes and returns the highest member of the first non-empty set, blocking until one exists",
        "O(log(N))",
        &BLOCKING_POP,
    ),
];
