//! COMMAND DOCS of every EXZ* command (summary, complexity and arguments from spec tairzset.md §3–§4),
//! so `COMMAND DOCS` is complete and valkey-cli shows argument hints.

use tair_common::module::arg_docs::{COUNT, KEY, MATCH, NX, XX};
use tair_common::module::{ArgDoc, ArgKind, CommandDoc};

const SINCE: &str = "1.0.0";

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

const fn doc(
    command: &'static str,
    summary: &'static str,
    complexity: &'static str,
    args: &'static [ArgDoc],
) -> CommandDoc {
    CommandDoc {
        command,
        summary,
        complexity,
        since: SINCE,
        args,
    }
}

pub static DOCS: [CommandDoc; 34] = [
    doc(
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
    doc(
        "exzincrby",
        "Adds an increment tuple to a member's score",
        "O(log(N))",
        &[KEY, ArgDoc::arg("increment", ArgKind::String), MEMBER],
    ),
    doc(
        "exzscore",
        "Returns a member's score",
        "O(1)",
        &[KEY, MEMBER],
    ),
    doc(
        "exzmscore",
        "Returns the scores of several members",
        "O(M) for M members",
        &[KEY, MEMBERS],
    ),
    doc(
        "exzrange",
        "Returns members by ascending rank",
        RANGE_COST,
        &RANGE,
    ),
    doc(
        "exzrevrange",
        "Returns members by descending rank",
        RANGE_COST,
        &RANGE,
    ),
    doc(
        "exzrangebyscore",
        "Returns members within score bounds (a bound may give a prefix of the dimensions)",
        RANGE_COST,
        &BY_SCORE,
    ),
    doc(
        "exzrevrangebyscore",
        "Returns members within score bounds, highest first",
        RANGE_COST,
        &REV_BY_SCORE,
    ),
    doc(
        "exzrangebylex",
        "Returns members within lexicographic bounds",
        RANGE_COST,
        &BY_LEX,
    ),
    doc(
        "exzrevrangebylex",
        "Returns members within lexicographic bounds, highest first",
        RANGE_COST,
        &REV_BY_LEX,
    ),
    doc(
        "exzrem",
        "Removes members",
        "O(M*log(N)) for M members",
        &[KEY, MEMBERS],
    ),
    doc(
        "exzremrangebyscore",
        "Removes the members within score bounds",
        "O(log(N)+M) with M removed",
        &[KEY, MIN, MAX],
    ),
    doc(
        "exzremrangebyrank",
        "Removes the members within a rank range",
        "O(log(N)+M) with M removed",
        &[KEY, START, STOP],
    ),
    doc(
        "exzremrangebylex",
        "Removes the members within lexicographic bounds",
        "O(log(N)+M) with M removed",
        &[KEY, MIN, MAX],
    ),
    doc("exzcard", "Returns the number of members", "O(1)", &[KEY]),
    doc(
        "exzrank",
        "Returns a member's ascending rank (and score)",
        "O(log(N))",
        &RANK,
    ),
    doc(
        "exzrevrank",
        "Returns a member's descending rank (and score)",
        "O(log(N))",
        &RANK,
    ),
    doc(
        "exzrankbyscore",
        "Returns how many members have a score below the given one",
        "O(log(N))",
        &[KEY, SCORE],
    ),
    doc(
        "exzrevrankbyscore",
        "Returns how many members have a score at or above the given one",
        "O(log(N))",
        &[KEY, SCORE],
    ),
    doc(
        "exzcount",
        "Counts the members within score bounds",
        "O(log(N))",
        &[KEY, MIN, MAX],
    ),
    doc(
        "exzlexcount",
        "Counts the members within lexicographic bounds",
        "O(log(N))",
        &[KEY, MIN, MAX],
    ),
    doc(
        "exzrandmember",
        "Returns random members (distinct with a positive count, repeats allowed with a negative one)",
        "O(M*log(N)) for M returned",
        &[
            KEY,
            ArgDoc::opt("count", ArgKind::Integer, None),
            WITHSCORES,
        ],
    ),
    doc(
        "exzscan",
        "Iterates over members and scores",
        "O(1) per call, O(N) for a full iteration",
        &[KEY, ArgDoc::arg("cursor", ArgKind::Integer), MATCH, COUNT],
    ),
    doc(
        "exzunionstore",
        "Stores the union of sets, with weights and aggregation",
        "O(N)+O(M*log(M)) with N input members and M in the result",
        &STORE_AGG,
    ),
    doc(
        "exzinterstore",
        "Stores the intersection of sets, with weights and aggregation",
        "O(N*K)+O(M*log(M)) with N the smallest input, K inputs, M in the result",
        &STORE_AGG,
    ),
    doc(
        "exzdiffstore",
        "Stores the members of the first set absent from the others",
        "O(L+(N-K)*log(N)) with L input members",
        &[DEST, NUMKEYS, KEYS],
    ),
    doc(
        "exzunion",
        "Returns the union of sets, with weights and aggregation",
        "O(N)+O(M*log(M)) with N input members and M in the result",
        &AGG,
    ),
    doc(
        "exzinter",
        "Returns the intersection of sets, with weights and aggregation",
        "O(N*K)+O(M*log(M)) with N the smallest input, K inputs, M in the result",
        &AGG,
    ),
    doc(
        "exzdiff",
        "Returns the members of the first set absent from the others",
        "O(L+(N-K)*log(N)) with L input members",
        &[NUMKEYS, KEYS, WITHSCORES],
    ),
    doc(
        "exzintercard",
        "Returns the size of the intersection of sets (stopping at LIMIT)",
        "O(N*K) with N the smallest input and K inputs",
        &[
            NUMKEYS,
            KEYS,
            ArgDoc::opt("limit", ArgKind::Integer, Some("LIMIT")),
        ],
    ),
    doc(
        "exzpopmin",
        "Removes and returns the members with the lowest scores",
        "O(M*log(N)) for M popped",
        &POP,
    ),
    doc(
        "exzpopmax",
        "Removes and returns the members with the highest scores",
        "O(M*log(N)) for M popped",
        &POP,
    ),
    doc(
        "exbzpopmin",
        "Removes and returns the lowest member of the first non-empty set, blocking until one exists",
        "O(log(N))",
        &BLOCKING_POP,
    ),
    doc(
        "exbzpopmax",
        "Removes and returns the highest member of the first non-empty set, blocking until one exists",
        "O(log(N))",
        &BLOCKING_POP,
    ),
];
