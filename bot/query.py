"""Query normalisation: acronyms and their expansions, spelling variants, follow-ups.

`expand_query` adds the other form of every known acronym or expansion it finds ("KPO" ->
"knowledge process outsourcing" and back), so both retrievers match whichever form a guide
uses. `standalone_query` turns a follow-up ("and what does it cost offshore?") into a query
that carries the topic of the earlier turns.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from ingest.text import STOPWORDS, normalize, stem, words

__all__ = ["ACRONYMS", "Turn", "content_query", "dense_query", "expand_query", "resolve_ordinal",
           "standalone_query", "without_situation"]

ACRONYMS: dict[str, str] = {
    "bpo": "business process outsourcing",
    "bpm": "business process management",
    "kpo": "knowledge process outsourcing",
    "lpo": "legal process outsourcing",
    "rpo": "recruitment process outsourcing",
    "ites": "information technology enabled services",
    "ito": "information technology outsourcing",
    "hro": "human resources outsourcing",
    "fpo": "financial process outsourcing",
    "bpaas": "business process as a service",
    "fte": "full-time equivalent",
    "t&m": "time and materials",
    "sla": "service level agreement",
    "slas": "service level agreements",
    "kpi": "key performance indicator",
    "kpis": "key performance indicators",
    "gcc": "global capability center",
    "gccs": "global capability centers",
    "gic": "global in-house center",
    "bot": "build-operate-transfer",
    "coe": "center of excellence",
    "rpa": "robotic process automation",
    "idp": "intelligent document processing",
    "aht": "average handle time",
    "csat": "customer satisfaction",
    "fcr": "first contact resolution",
    "nps": "net promoter score",
    "tco": "total cost of ownership",
    "va": "virtual assistant",
    "vas": "virtual assistants",
    "sme": "small and medium enterprise",
    "smes": "small and medium enterprises",
    "smb": "small and medium business",
    "sow": "statement of work",
    "sop": "standard operating procedure",
    "sops": "standard operating procedures",
    "dpa": "data processing agreement",
    "gdpr": "general data protection regulation",
    "ccpa": "california consumer privacy act",
    "hipaa": "health insurance portability and accountability act",
    "pdpa": "personal data protection act",
    "lgpd": "lei geral de protecao de dados",
    "dpdp": "digital personal data protection",
    "cx": "customer experience",
    "f&a": "finance and accounting",
    "ap": "accounts payable",
    "ar": "accounts receivable",
    "hr": "human resources",
    "siam": "service integration and management",
    "msp": "managed services provider",
    "ktp": "knowledge transfer plan",
    "tupe": "transfer of undertakings protection of employment",
    "baa": "business associate agreement",
    "phi": "protected health information",
    "cmmi": "capability maturity model integration",
    "copc": "customer operations performance center",
    "isms": "information security management system",
    "fp&a": "financial planning and analysis",
    "gbs": "global business services",
    "cpg": "consumer packaged goods",
    "bfs": "banking and financial services",
    "crm": "customer relationship management",
    "erp": "enterprise resource planning",
    "qa": "quality assurance",
    "ai": "artificial intelligence",
    "roi": "return on investment",
    "cagr": "compound annual growth rate",
    "rfp": "request for proposal",
    "it": "information technology",
}
"""Acronyms of the outsourcing trade and their expansions (domain vocabulary, not answers)."""

_SPELLING = {
    "centre": "center", "centres": "centers", "organisation": "organization",
    "organisations": "organizations", "specialised": "specialized", "specialise": "specialize",
    "optimise": "optimize", "optimisation": "optimization", "labour": "labor",
    "offshoring": "offshore", "nearshoring": "nearshore", "onshoring": "onshore",
    "outsourcer": "outsourcing provider", "outsourcers": "outsourcing providers",
    "callcenter": "call center", "helpdesk": "help desk", "cheap": "low cost",
    "cheaper": "lower cost", "cheapest": "lowest cost", "staff": "staff employees",
    "startup": "startup small business SME", "startups": "startups small businesses SMEs",
    "founder": "founder small business", "founders": "founders small businesses",
    "headcount": "employees workforce FTEs", "workers": "employees workforce",
    "people": "employees workforce", "agents": "employees workforce", "employ": "employees",
    "personnel": "employees workforce", "seats": "FTEs", "clock": "24/7", "overnight": "24/7", "captive": "GCC",
    "in-house": "internal", "inhouse": "internal", "covid": "pandemic", "coronavirus": "pandemic",
    "cons": "risks disadvantages", "downsides": "risks", "dangers": "risks", "pitfalls": "risks",
    "pros": "benefits advantages", "upsides": "benefits advantages", "perks": "benefits",
    "size": "market size", "worth": "market size",
    "price": "price cost", "prices": "prices cost", "pricing": "pricing cost",
    "fees": "fees cost", "fee": "fee cost", "charge": "charge cost rates",
    "rates": "rates cost", "salary": "salary cost",
    "dollars": "dollars $", "usd": "$",
}
"""Spelling variants and near-synonyms mapped onto the guides' wording."""

_AMBIGUOUS = frozenset({"it", "bot", "ai", "va", "vas", "hr", "qa", "cx", "phi", "baa", "sow",
                        "ap", "ar"})
_EXPANSIONS_REV = sorted(((v, k) for k, v in ACRONYMS.items()), key=lambda kv: -len(kv[0]))
_ACRONYM_TOKEN = re.compile(r"[A-Za-z][A-Za-z&]*")


_STYLE = re.compile(
    r"\b(?:in (?:plain|simple|layman'?s?|basic|everyday|non-technical|lay) "
    r"(?:english|terms|words|language)|in a nutshell|in (?:one|a single) (?:line|sentence)|"
    r"one-line|one-liner|(?:a |the )?(?:short |simple |quick |brief )?definitions? of|"
    r"^\s*define)\b", re.I)
"""Phrases about how to answer, not what about ("in plain English"): their rare words would
pull in any passage that happens to say "plain English"."""


def content_query(query: str) -> str:
    """The query (normalised) without phrases about how to answer ("in plain English")."""
    norm = normalize(query)
    stripped = " ".join(_STYLE.sub(" ", norm).split())
    return stripped if re.search(r"\w", stripped) else norm


@lru_cache(maxsize=4096)
def expand_query(query: str) -> str:
    """The query plus the other form of each acronym/expansion and spelling variants in it
    (phrases about how to answer left out, see `content_query`)."""
    norm = content_query(query)
    extra = _expansions(norm)
    return norm if not extra else f"{norm} ({'; '.join(extra)})"


COMMON_DF = 0.45
"""Words in at least this share of chunks (in these guides: BPO, outsourcing, business,
process) say nothing about which passage answers; the dense query leaves them out."""


def dense_query(query: str, df_ratio: Callable[[str], float]) -> str:
    """The query as the embedder should see it: without the words every passage shares
    (they swamp the vector: in a BPO corpus every passage is "about BPO"), plus expansions
    of the rarer acronyms. Falls back to the full query when nothing specific is left."""
    norm = content_query(query)
    kept: list[str] = []
    specific = 0
    for tok in re.findall(r"\S+", norm):
        core = [w for w in words(tok) if w not in STOPWORDS]
        if core and all(df_ratio(stem(w)) >= COMMON_DF for w in core):
            continue
        kept.append(tok)
        specific += len(core)
    extra = [e for e in _expansions(norm)
             if not all(df_ratio(stem(w)) >= COMMON_DF for w in words(e))]
    if specific == 0:
        return expand_query(norm)
    text = " ".join(kept)
    return text if not extra else f"{text} ({'; '.join(extra)})"


def _expansions(norm: str) -> list[str]:
    low = norm.lower()
    extra: list[str] = []
    tokens = list(dict.fromkeys(words(norm)))  # ordered: the query text must be deterministic
    raw_tokens = list(dict.fromkeys(_ACRONYM_TOKEN.findall(norm)))
    for tok in raw_tokens:
        key = tok.lower()
        if key not in ACRONYMS:
            continue
        if key in _AMBIGUOUS and not tok.isupper() and tok not in ("VAs", "SLAs", "KPIs"):
            continue  # "it", "bot", "ai"... are acronyms only when written in capitals
        extra.append(ACRONYMS[key])
    for phrase, acro in _EXPANSIONS_REV:
        if phrase in low:
            extra.append(acro.upper())
    for tok in tokens:
        if tok in _SPELLING:
            extra.append(_SPELLING[tok])
    for m in _HEADCOUNT.finditer(low):
        n = _NUMBER_WORDS.get(m.group("n")) or int(m.group("n").replace(",", ""))
        if n < SMALL_HEADCOUNT:
            extra.append("small business SME")
        elif n >= ENTERPRISE_HEADCOUNT:
            extra.append("enterprise")
    seen: list[str] = []
    for e in extra:
        if e not in seen and e.lower() not in low:
            seen.append(e)
    return seen


_HEADCOUNT = re.compile(
    r"\b(?P<n>\d[\d,]*|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
    r"fifteen|twenty|thirty|forty|fifty)[- ](?:person|people|employee|staff|seat|man|member)s?\b"
    r"(?:[- ](?:company|business|startup|team|firm|shop|agency|operation|practice|organi[sz]ation))?")
_NUMBER_WORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve".split())}
_NUMBER_WORDS.update({"fifteen": 15, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50})
SMALL_HEADCOUNT = 50
"""A business of fewer people than this is a small business (an SME) in the guides' terms."""
ENTERPRISE_HEADCOUNT = 1000
"""A business of at least this many people is an enterprise."""


_SITUATION = re.compile(
    r"\b(?i:(?:we(?:'re|\s+are)|i(?:'m|\s+am)|our\s+(?:company|business|firm|team|startup|"
    r"head\s?office|hq|headquarters)\s+(?:is|are))\s+(?:(?:a|an)\s+(?:[\w-]+\s+){0,3}?"
    r"(?:company|business|firm|startup|team|shop|agency|brand|retailer),?\s+)?"
    r"(?:(?:based|located|headquartered|registered)\s+)?(?:in|out\s+of|from)\s+(?:the\s+)?)"
    r"(?P<place>[A-Z][\w-]*(?:[ \t]+[A-Z][\w-]*)*)")
"""Where the asker is ("We're in Germany.", "our company is based in Ohio"): their situation."""


def without_situation(question: str) -> str:
    """The question without the asker's own place ("We're in Germany. What nearshore options
    are there in Europe?" -> "We're in. What nearshore..."), unless the place is asked about
    elsewhere in the question too ("We're in Germany - what does BPO cost in Germany?"). The
    guides need not know where the asker is to answer; they must know what is asked about."""
    out = question
    for m in reversed(list(_SITUATION.finditer(question))):
        rest = question[:m.start("place")] + question[m.end("place"):]
        if not any(re.search(rf"\b{re.escape(w)}\b", rest) for w in m.group("place").split()):
            out = out[:m.start("place")] + out[m.end("place"):]
    return out


@dataclass(frozen=True)
class Turn:
    """One message of a conversation."""

    role: str
    """`user` or `assistant`."""
    content: str
    """The message text."""


_FOLLOW_UP_START = re.compile(
    r"^\s*(and|also|but|so|then|what about|how about|ok(ay)?|same|compared|versus|vs\.?|"
    r"which one|why|how come|really|is that|are they|does that|do they|can they|what if)\b",
    re.IGNORECASE)
_ANAPHORA = re.compile(
    r"\b(it|its|it's|this|that|these|those|they|them|their|there|he|she|ones?|former|latter|"
    r"first|second|third|last|above|same|such|which of them|either|both)\b",
    re.IGNORECASE)
_GENERIC = frozenset("""business businesses company companies outsourcing outsource outsourced
    process processes service services thing things one ones way ways kind kinds type types
    typical typically usually much many cost costs work works option options model models
    good best better important main key provider providers vendor vendors firm firms""".split())


def _topic_words(text: str) -> list[str]:
    out: list[str] = []
    for w in words(text):
        if w in STOPWORDS or w in out or len(w) < 2:
            continue
        out.append(w)
    return out


def is_follow_up(question: str) -> bool:
    """Does the question lean on earlier turns (pronouns, 'and ...', no topic of its own)?"""
    q = normalize(question)
    own = [w for w in _topic_words(q) if w not in _GENERIC]
    if _FOLLOW_UP_START.search(q):
        return True
    if _ANAPHORA.search(q) and len(own) <= 7:
        return True
    if re.match(r"^\s*which\s+(?:one|would|should|is|of|do|does)\b", q, re.I):
        return True  # "which would you suggest ...": one of the options discussed
    return len(own) <= 1


_ORDINALS = {"first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2, "fourth": 3,
             "4th": 3, "fifth": 4, "5th": 4, "last": -1, "former": 0, "latter": -1}
_ORDINAL_REF = re.compile(
    r"\bthe\s+(?P<n>first|1st|second|2nd|third|3rd|fourth|4th|fifth|5th|last|former|latter)"
    r"(?:\s+(?:one|ones|option|model|item|point|type|kind|choice|approach|risk|vendor|company|"
    r"provider|firm|country|law|standard|step|benefit|idea)s?\b|(?=\s*(?:[?.!,;)]|$)))",
    re.IGNORECASE)
""""the second one", "the last option", "the former": a pointer into the list the previous
answer gave. An ordinal followed by another noun ("the first contact...") is not one."""
_LIST_LEAD = re.compile(r"^.*?\b(?:are|is|include|includes|including|were|mainly|namely|"
                        r"chiefly|:)\s+", re.IGNORECASE)
_MARKERS = re.compile(r"\s*\[\d+\]")
_BULLET = re.compile(r"^\s*(?:[-*\u2022]|\d{1,2}[.)])\s+")


def _enumerated(answer: str) -> list[str]:
    """The items an answer lists, in order: its bullet lines (each by its label, if it has
    one), else the comma/'and' separated items of its first sentence that lists any."""
    text = _MARKERS.sub("", answer)
    bullets = [_BULLET.sub("", ln).strip() for ln in text.splitlines() if _BULLET.match(ln)]
    if len(bullets) >= 2:
        return [re.split(r":\s|\.\s|\s[-\u2013\u2014]\s", b, maxsplit=1)[0].strip()
                for b in bullets]
    for sentence in re.split(r"(?<=[.!?])\s+", text):
        if not _LIST_SEP.search(sentence):
            continue
        body = sentence.split(":", 1)[1] if ":" in sentence[:80] else sentence
        m = _LIST_LEAD.match(body.split(",", 1)[0])
        if m and _LIST_SEP.search(body[m.end():]):  # "The big ones are a, b and c"
            body = body[m.end():]
        parts = [re.split(r"\s+(?:are|is|was|were|has|have)\s+", p, maxsplit=1)[0].strip(" .")
                 for p in _LIST_SEP.split(body)]
        parts = [p for p in parts if p and len(p.split()) <= 10]
        if len(parts) >= 2:
            return parts
    return []


_LIST_SEP = re.compile(r",\s*(?:and\s+|or\s+)?|\s+and\s+|;\s*")


def resolve_ordinal(question: str, history: Sequence[Turn]) -> str:
    """The question with "the second one" replaced by the second item of the previous
    answer's list ("What's the catch with the second one?" after "FTE, time & materials,
    outcome-based and hybrids" -> "What's the catch with time & materials?"); unchanged
    when there is no such pointer or no list to point into."""
    m = _ORDINAL_REF.search(question)
    if not m:
        return question
    answers = [t.content for t in history if t.role == "assistant" and t.content.strip()]
    if not answers:
        return question
    items = _enumerated(answers[-1])
    k = _ORDINALS[m.group("n").lower()]
    if not items or k >= len(items):
        return question
    return question[:m.start()] + items[k] + question[m.end():]


def standalone_query(question: str, history: Sequence[Turn]) -> str:
    """A retrieval query that stands alone: the question plus the topic of earlier turns
    (and a pointer such as "the second one" replaced by what it points to)."""
    question = normalize(question)
    users = [t.content for t in history if t.role == "user" and t.content.strip()]
    if not users or not is_follow_up(question):
        return question
    question = resolve_ordinal(question, history)
    own = set(_topic_words(question))
    topic: list[str] = []
    for prev in reversed(users[-2:]):
        for w in _topic_words(prev):
            if w not in own and w not in topic and w not in _GENERIC:
                topic.append(w)
        if len(topic) >= 3:
            break
    if not topic:
        return question
    return f"{question} ({' '.join(topic[:8])})"
