-- trendflow output tables (SPEC 3), snapshot records, source offsets and dead letters.
-- Column names and types are checked against src/columns.rs by a test.

CREATE TABLE metric_facts (
    id TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    brand_id TEXT NOT NULL,
    query_id TEXT NOT NULL,
    collector_type TEXT NOT NULL,
    topic TEXT NOT NULL,
    day TEXT NOT NULL,
    created_at TEXT NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (id)
);

CREATE TABLE collector_results (
    id TEXT NOT NULL,
    brand_name TEXT,
    created_at TEXT NOT NULL,
    version INTEGER NOT NULL,
    raw_answer TEXT,
    PRIMARY KEY (id)
);

CREATE TABLE brand_metrics (
    result_id TEXT NOT NULL,
    visibility_index REAL NOT NULL,
    share_of_answers REAL NOT NULL,
    mentions INTEGER NOT NULL,
    positions TEXT NOT NULL,
    best_position INTEGER,
    PRIMARY KEY (result_id)
);

CREATE TABLE competitor_metrics (
    result_id TEXT NOT NULL,
    competitor_id TEXT NOT NULL,
    competitor_name TEXT,
    visibility_index REAL NOT NULL,
    share_of_answers REAL NOT NULL,
    mentions INTEGER NOT NULL,
    positions TEXT NOT NULL,
    best_position INTEGER,
    PRIMARY KEY (result_id, competitor_id)
);

CREATE TABLE brand_sentiment (
    result_id TEXT NOT NULL,
    label TEXT NOT NULL,
    score REAL NOT NULL,
    PRIMARY KEY (result_id)
);

CREATE TABLE competitor_sentiment (
    result_id TEXT NOT NULL,
    competitor_id TEXT NOT NULL,
    label TEXT NOT NULL,
    score REAL NOT NULL,
    PRIMARY KEY (result_id, competitor_id)
);

CREATE TABLE brand_daily_metrics (
    customer_id TEXT NOT NULL,
    brand_id TEXT NOT NULL,
    collector_type TEXT NOT NULL,
    day TEXT NOT NULL,
    answers INTEGER NOT NULL,
    mentions INTEGER NOT NULL,
    avg_visibility_index REAL,
    avg_share_of_answers REAL,
    avg_position REAL,
    best_position INTEGER,
    avg_sentiment_score REAL,
    positive_count INTEGER NOT NULL,
    neutral_count INTEGER NOT NULL,
    negative_count INTEGER NOT NULL,
    visibility_index_sum REAL NOT NULL,
    share_of_answers_sum REAL NOT NULL,
    position_sum INTEGER NOT NULL,
    position_count INTEGER NOT NULL,
    sentiment_sum REAL NOT NULL,
    sentiment_count INTEGER NOT NULL,
    PRIMARY KEY (customer_id, brand_id, collector_type, day)
);

CREATE TABLE competitor_daily_metrics (
    customer_id TEXT NOT NULL,
    brand_id TEXT NOT NULL,
    competitor_id TEXT NOT NULL,
    collector_type TEXT NOT NULL,
    day TEXT NOT NULL,
    answers INTEGER NOT NULL,
    mentions INTEGER NOT NULL,
    avg_visibility_index REAL,
    avg_share_of_answers REAL,
    avg_position REAL,
    best_position INTEGER,
    avg_sentiment_score REAL,
    positive_count INTEGER NOT NULL,
    neutral_count INTEGER NOT NULL,
    negative_count INTEGER NOT NULL,
    visibility_index_sum REAL NOT NULL,
    share_of_answers_sum REAL NOT NULL,
    position_sum INTEGER NOT NULL,
    position_count INTEGER NOT NULL,
    sentiment_sum REAL NOT NULL,
    sentiment_count INTEGER NOT NULL,
    PRIMARY KEY (customer_id, brand_id, competitor_id, collector_type, day)
);

CREATE TABLE trends (
    trend_id TEXT NOT NULL,
    headline TEXT NOT NULL,
    keywords TEXT NOT NULL,
    article_count INTEGER NOT NULL,
    story_count INTEGER NOT NULL,
    source_count INTEGER NOT NULL,
    first_published_at TEXT NOT NULL,
    last_published_at TEXT NOT NULL,
    articles_1h INTEGER NOT NULL,
    articles_24h INTEGER NOT NULL,
    rising_score REAL NOT NULL,
    PRIMARY KEY (trend_id)
);

CREATE TABLE trend_articles (
    source TEXT NOT NULL,
    external_id TEXT NOT NULL,
    trend_id TEXT NOT NULL,
    story_id TEXT NOT NULL,
    published_at TEXT NOT NULL,
    title TEXT NOT NULL,
    PRIMARY KEY (source, external_id)
);

CREATE TABLE trend_aliases (
    alias_id TEXT NOT NULL,
    trend_id TEXT NOT NULL,
    PRIMARY KEY (alias_id)
);

CREATE TABLE archived_trends (
    trend_id TEXT NOT NULL,
    archived_at TEXT NOT NULL,
    headline TEXT NOT NULL,
    keywords TEXT NOT NULL,
    article_count INTEGER NOT NULL,
    story_count INTEGER NOT NULL,
    source_count INTEGER NOT NULL,
    first_published_at TEXT NOT NULL,
    last_published_at TEXT NOT NULL,
    articles_1h INTEGER NOT NULL,
    articles_24h INTEGER NOT NULL,
    rising_score REAL NOT NULL,
    PRIMARY KEY (trend_id, archived_at)
);

-- What each committed snapshot was: one row per epoch, written in the same transaction as its rows.
CREATE TABLE snapshots (
    epoch INTEGER NOT NULL PRIMARY KEY,
    committed_at TEXT NOT NULL,
    watermark TEXT,
    events_in INTEGER NOT NULL,
    rejected INTEGER NOT NULL,
    rows_changed TEXT NOT NULL
);

-- Where each source partition resumes: the next offset (Kafka) or line (file) after the snapshot.
CREATE TABLE source_offsets (
    source TEXT NOT NULL,
    partition INTEGER NOT NULL,
    next_offset INTEGER NOT NULL,
    epoch INTEGER NOT NULL,
    PRIMARY KEY (source, partition)
);

-- Messages that failed decoding, with the original bytes and the reason (SPEC 2.3).
CREATE TABLE dead_letters (
    source TEXT NOT NULL,
    partition INTEGER NOT NULL,
    "offset" INTEGER NOT NULL,
    epoch INTEGER NOT NULL,
    field TEXT NOT NULL,
    reason TEXT NOT NULL,
    error TEXT NOT NULL,
    key BLOB,
    payload BLOB,
    PRIMARY KEY (source, partition, "offset")
);
