-- trendflow output tables (SPEC 3), snapshot records, source offsets and dead letters.
-- Column names and types are checked against src/columns.rs by a test.

CREATE TABLE metric_facts (
    id text NOT NULL,
    customer_id text NOT NULL,
    brand_id text NOT NULL,
    query_id text NOT NULL,
    collector_type text NOT NULL,
    topic text NOT NULL,
    day date NOT NULL,
    created_at timestamptz NOT NULL,
    version bigint NOT NULL,
    PRIMARY KEY (id)
);

CREATE TABLE collector_results (
    id text NOT NULL,
    brand_name text,
    created_at timestamptz NOT NULL,
    version bigint NOT NULL,
    raw_answer text,
    PRIMARY KEY (id)
);

CREATE TABLE brand_metrics (
    result_id text NOT NULL,
    visibility_index double precision NOT NULL,
    share_of_answers double precision NOT NULL,
    mentions bigint NOT NULL,
    positions bigint[] NOT NULL,
    best_position bigint,
    PRIMARY KEY (result_id)
);

CREATE TABLE competitor_metrics (
    result_id text NOT NULL,
    competitor_id text NOT NULL,
    competitor_name text,
    visibility_index double precision NOT NULL,
    share_of_answers double precision NOT NULL,
    mentions bigint NOT NULL,
    positions bigint[] NOT NULL,
    best_position bigint,
    PRIMARY KEY (result_id, competitor_id)
);

CREATE TABLE brand_sentiment (
    result_id text NOT NULL,
    label text NOT NULL,
    score double precision NOT NULL,
    PRIMARY KEY (result_id)
);

CREATE TABLE competitor_sentiment (
    result_id text NOT NULL,
    competitor_id text NOT NULL,
    label text NOT NULL,
    score double precision NOT NULL,
    PRIMARY KEY (result_id, competitor_id)
);

CREATE TABLE brand_daily_metrics (
    customer_id text NOT NULL,
    brand_id text NOT NULL,
    collector_type text NOT NULL,
    day date NOT NULL,
    answers bigint NOT NULL,
    mentions bigint NOT NULL,
    avg_visibility_index double precision,
    avg_share_of_answers double precision,
    avg_position double precision,
    best_position bigint,
    avg_sentiment_score double precision,
    positive_count bigint NOT NULL,
    neutral_count bigint NOT NULL,
    negative_count bigint NOT NULL,
    visibility_index_sum double precision NOT NULL,
    share_of_answers_sum double precision NOT NULL,
    position_sum bigint NOT NULL,
    position_count bigint NOT NULL,
    sentiment_sum double precision NOT NULL,
    sentiment_count bigint NOT NULL,
    PRIMARY KEY (customer_id, brand_id, collector_type, day)
);

CREATE TABLE competitor_daily_metrics (
    customer_id text NOT NULL,
    brand_id text NOT NULL,
    competitor_id text NOT NULL,
    collector_type text NOT NULL,
    day date NOT NULL,
    answers bigint NOT NULL,
    mentions bigint NOT NULL,
    avg_visibility_index double precision,
    avg_share_of_answers double precision,
    avg_position double precision,
    best_position bigint,
    avg_sentiment_score double precision,
    positive_count bigint NOT NULL,
    neutral_count bigint NOT NULL,
    negative_count bigint NOT NULL,
    visibility_index_sum double precision NOT NULL,
    share_of_answers_sum double precision NOT NULL,
    position_sum bigint NOT NULL,
    position_count bigint NOT NULL,
    sentiment_sum double precision NOT NULL,
    sentiment_count bigint NOT NULL,
    PRIMARY KEY (customer_id, brand_id, competitor_id, collector_type, day)
);

CREATE TABLE trends (
    trend_id text NOT NULL,
    headline text NOT NULL,
    keywords text[] NOT NULL,
    article_count bigint NOT NULL,
    story_count bigint NOT NULL,
    source_count bigint NOT NULL,
    first_published_at timestamptz NOT NULL,
    last_published_at timestamptz NOT NULL,
    articles_1h bigint NOT NULL,
    articles_24h bigint NOT NULL,
    rising_score double precision NOT NULL,
    PRIMARY KEY (trend_id)
);

CREATE TABLE trend_articles (
    source text NOT NULL,
    external_id text NOT NULL,
    trend_id text NOT NULL,
    story_id text NOT NULL,
    published_at timestamptz NOT NULL,
    title text NOT NULL,
    PRIMARY KEY (source, external_id)
);

CREATE TABLE trend_aliases (
    alias_id text NOT NULL,
    trend_id text NOT NULL,
    PRIMARY KEY (alias_id)
);

CREATE TABLE archived_trends (
    trend_id text NOT NULL,
    archived_at timestamptz NOT NULL,
    headline text NOT NULL,
    keywords text[] NOT NULL,
    article_count bigint NOT NULL,
    story_count bigint NOT NULL,
    source_count bigint NOT NULL,
    first_published_at timestamptz NOT NULL,
    last_published_at timestamptz NOT NULL,
    articles_1h bigint NOT NULL,
    articles_24h bigint NOT NULL,
    rising_score double precision NOT NULL,
    PRIMARY KEY (trend_id, archived_at)
);

-- What each committed snapshot was: one row per epoch, written in the same transaction as its rows.
CREATE TABLE snapshots (
    epoch bigint NOT NULL PRIMARY KEY,
    committed_at timestamptz NOT NULL,
    watermark timestamptz,
    events_in bigint NOT NULL,
    rejected bigint NOT NULL,
    rows_changed jsonb NOT NULL
);

-- Where each source partition resumes: the next offset (Kafka) or line (file) after the snapshot.
CREATE TABLE source_offsets (
    source text NOT NULL,
    partition integer NOT NULL,
    next_offset bigint NOT NULL,
    epoch bigint NOT NULL,
    PRIMARY KEY (source, partition)
);

-- Messages that failed decoding, with the original bytes and the reason (SPEC 2.3).
CREATE TABLE dead_letters (
    source text NOT NULL,
    partition integer NOT NULL,
    "offset" bigint NOT NULL,
    epoch bigint NOT NULL,
    field text NOT NULL,
    reason text NOT NULL,
    error text NOT NULL,
    key bytea,
    payload bytea,
    PRIMARY KEY (source, partition, "offset")
);
