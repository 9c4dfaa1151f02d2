-- coverplan ledger (台账) in PostgreSQL + PostGIS, schema version 1.
-- Rows (a village or school, its fixed attributes and the values it was entered with), events appended and never
-- changed (privileges and triggers), the current state as a view, the lifecycle checked by a trigger on every
-- insert (the CLI's, QGIS's, psql's alike), and row-level security per county and operator.
-- Applied by `coverplan ledger init|migrate URL` in one transaction, as the database's owner.

CREATE EXTENSION IF NOT EXISTS postgis;

DO $roles$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'coverplan_editor') THEN
        CREATE ROLE coverplan_editor NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'coverplan_province') THEN
        CREATE ROLE coverplan_province NOLOGIN;
    END IF;
END
$roles$;

-- what the ledger was imported from, its CRS
CREATE TABLE ledger_meta (key text PRIMARY KEY, value text NOT NULL);

-- who may add events to which rows: a role (or a role it is a member of) per county and/or operator
CREATE TABLE ledger_editors (
    role_name name NOT NULL,
    county text,
    operator text,
    UNIQUE (role_name, county, operator)
);

CREATE TABLE ledger_rows (
    fid bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    id text PRIMARY KEY,
    layer text NOT NULL CHECK (layer IN ('villages', 'schools')),
    name text,
    county text,
    kind text,
    access text,
    evidence text,
    operator text,
    -- MIIT 台账: 12-digit statistical division code, designated county (国定/省定贫困县),
    -- contiguous poverty area (集中连片特困地区), deep poverty (深度贫困)
    division_code text CHECK (division_code ~ '^[0-9]{12}$'),
    designated_county boolean,
    contiguous_poverty_area boolean,
    deep_poverty boolean,
    -- the tracked fields' values when the row was entered (events change them)
    lacks text,
    remedy text,
    remedy_id text,
    remedy_cost_cny double precision,
    batch double precision,
    year double precision,
    funding text,
    plan_detail text,
    measured_mbps double precision,
    reason text,
    geom geometry(Point)
);
CREATE INDEX ledger_rows_county ON ledger_rows (county);
CREATE INDEX ledger_rows_geom ON ledger_rows USING gist (geom);

CREATE TABLE ledger_events (
    event_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id text NOT NULL REFERENCES ledger_rows (id),
    event_date date NOT NULL,
    field text NOT NULL CHECK (field ~ '^[a-z][a-z0-9_]*$'),
    old text,
    new text,
    note text,
    source text,
    forced boolean NOT NULL DEFAULT false,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    recorded_by name NOT NULL DEFAULT current_user
);
CREATE INDEX ledger_events_row ON ledger_events (id, field, event_id);

-- may the role `who` add events to the row `row_id`? (owner's rights: it reads every row and grant)
CREATE FUNCTION ledger_may_edit(row_id text, who name) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
    SELECT EXISTS (
        SELECT 1 FROM ledger_rows r JOIN ledger_editors e
            ON (e.county IS NULL OR e.county = r.county) AND (e.operator IS NULL OR e.operator = r.operator)
        WHERE r.id = row_id AND pg_has_role(who, e.role_name, 'MEMBER')
    )
$$;

CREATE FUNCTION ledger_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger: % on % refused: the ledger''s history is appended to, never changed or deleted',
        TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER ledger_events_append_only BEFORE UPDATE OR DELETE ON ledger_events
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_events_no_truncate BEFORE TRUNCATE ON ledger_events
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_rows_kept BEFORE DELETE ON ledger_rows
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_rows_no_truncate BEFORE TRUNCATE ON ledger_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();

CREATE FUNCTION ledger_status_rank(s text) RETURNS integer
LANGUAGE sql IMMUTABLE AS $$
    SELECT array_position(ARRAY['unconnected', 'planned', 'under_construction', 'completed', 'accepted'], s)
$$;

-- every event checked as the CLI checks a field report: a known status, a date within the programme and not in the
-- future, in date order (a row's first field report may be a back-fill dated before the row was entered), no step
-- backwards and no return from `excluded` unless `forced`, a reason to exclude, a measured outlet to accept a school
CREATE FUNCTION ledger_check_event() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
    owner name := (SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = TG_RELID);
    r ledger_rows%ROWTYPE;
    prev text;
    created date;
    cut bigint;
    last_date date;
    reported boolean;
BEGIN
    IF current_setting('coverplan.replay', true) = 'on' AND pg_has_role(session_user, owner, 'MEMBER') THEN
        RETURN NEW;  -- the owner copying a ledger's recorded history in (ledger init --from)
    END IF;
    NEW.recorded_at := now();
    PERFORM pg_advisory_xact_lock(hashtext('coverplan ledger row ' || NEW.id));
    SELECT * INTO r FROM ledger_rows WHERE id = NEW.id;
    IF NEW.event_date > current_date THEN
        RAISE EXCEPTION 'ledger row %: event date % is in the future (today is %); expected the date the change happened',
            NEW.id, NEW.event_date, current_date USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.event_date < DATE '2015-01-01' THEN
        RAISE EXCEPTION 'ledger row %: event date % is before the programme began (2015-01-01); expected the date the change happened',
            NEW.id, NEW.event_date USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.field IN ('measured_mbps', 'access_mbps') AND COALESCE(NEW.new, '') <> '' THEN
        IF NEW.new !~ '^[0-9]+(\.[0-9]*)?$' OR NEW.new::double precision > 100000 THEN
            RAISE EXCEPTION 'ledger row %: % = % is not a speed; expected a number from 0 to 100,000 Mbps',
                NEW.id, NEW.field, NEW.new USING ERRCODE = 'check_violation';
        END IF;
    END IF;
    IF NEW.field ~ '^(fibre|lte)_status_' AND COALESCE(NEW.new, '') <> ''
            AND ledger_status_rank(NEW.new) IS NULL THEN
        RAISE EXCEPTION 'ledger row %: % = % is not a status; expected unconnected, planned, under_construction, completed or accepted',
            NEW.id, NEW.field, NEW.new USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.field <> 'status' THEN
        RETURN NEW;
    END IF;
    IF NEW.new IS NULL OR (ledger_status_rank(NEW.new) IS NULL AND NEW.new <> 'excluded') THEN
        RAISE EXCEPTION 'ledger row %: status % is not a status; expected unconnected, planned, under_construction, completed, accepted or excluded',
            NEW.id, COALESCE(NEW.new, '(empty)') USING ERRCODE = 'check_violation';
    END IF;
    SELECT e.new INTO prev FROM ledger_events e WHERE e.id = NEW.id AND e.field = 'status' ORDER BY e.event_id DESC LIMIT 1;
    IF prev IS NULL THEN
        RETURN NEW;  -- the row's creation
    END IF;
    SELECT min(e.event_date) FILTER (WHERE e.note = 'created'), bool_or(e.note NOT IN ('created', 'plan'))
        INTO created, reported FROM ledger_events e WHERE e.id = NEW.id AND e.field = 'status';
    SELECT min(e.event_id) INTO cut FROM ledger_events e
        WHERE e.id = NEW.id AND e.field = 'status' AND e.event_date < created;
    SELECT max(e.event_date) INTO last_date FROM ledger_events e WHERE e.id = NEW.id AND e.event_id >= COALESCE(cut, 0)
        AND e.field = 'status';
    IF NEW.event_date < last_date THEN
        IF COALESCE(reported, false) OR NEW.event_date >= created THEN
            RAISE EXCEPTION 'ledger row %: % is before this row''s last recorded change (%); expected events in date order (only a row''s first field report may be dated before the row was entered)',
                NEW.id, NEW.event_date, last_date USING ERRCODE = 'check_violation';
        END IF;
        NEW.old := NULL;  -- a back-fill: the row exists from its date
    ELSE
        NEW.old := prev;
    END IF;
    IF prev = 'excluded' AND NEW.new <> 'excluded' AND NOT NEW.forced THEN
        RAISE EXCEPTION 'ledger row %: excluded -> %: the row was excluded; expected forced = true to bring it back',
            NEW.id, NEW.new USING ERRCODE = 'check_violation';
    END IF;
    IF ledger_status_rank(NEW.new) < ledger_status_rank(prev) AND NOT NEW.forced THEN
        RAISE EXCEPTION 'ledger row %: % -> % goes backwards; expected a later status (unconnected < planned < under_construction < completed < accepted) or forced = true',
            NEW.id, prev, NEW.new USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.new = 'excluded' AND NOT EXISTS (
            SELECT 1 FROM (SELECT e.new FROM ledger_events e WHERE e.id = NEW.id AND e.field = 'reason'
                           ORDER BY e.event_id DESC LIMIT 1) x
            WHERE x.new IN ('relocated', 'merged', 'other_programme')) THEN
        RAISE EXCEPTION 'ledger row %: excluded without a reason; expected a `reason` event (relocated, merged, other_programme) first',
            NEW.id USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.new = 'accepted' AND r.layer = 'schools' AND r.measured_mbps IS NULL AND NOT EXISTS (
            SELECT 1 FROM ledger_events e WHERE e.id = NEW.id AND e.field = 'measured_mbps' AND COALESCE(e.new, '') <> '') THEN
        RAISE EXCEPTION 'ledger row %: an accepted school needs the acceptance test''s outlet; expected a `measured_mbps` event first',
            NEW.id USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER ledger_events_checked BEFORE INSERT ON ledger_events
    FOR EACH ROW EXECUTE FUNCTION ledger_check_event();

-- the current state: each row with the latest value of every field (its entered value when no event changed it)
CREATE VIEW ledger WITH (security_invoker = true) AS
WITH latest AS (
    SELECT DISTINCT ON (id, field) id, field, new, event_date, note
    FROM ledger_events ORDER BY id, field, event_id DESC
), p AS (
    SELECT id,
        max(new) FILTER (WHERE field = 'status') AS status,
        max(event_date) FILTER (WHERE field = 'status') AS status_date,
        jsonb_object_agg(field, new) AS f
    FROM latest GROUP BY id
), reported AS (  -- the note of the row's last field report (a run's events, `created` and `plan`, carry none)
    SELECT DISTINCT ON (id) id, note FROM ledger_events
    WHERE field = 'status' AND COALESCE(note, '') NOT IN ('created', 'plan') ORDER BY id, event_id DESC
)
SELECT r.fid, r.id, r.layer, r.name, r.county, r.kind,
    CASE WHEN p.f ? 'lacks' THEN p.f ->> 'lacks' ELSE r.lacks END AS lacks,
    r.access, r.evidence,
    CASE WHEN p.f ? 'remedy' THEN p.f ->> 'remedy' ELSE r.remedy END AS remedy,
    CASE WHEN p.f ? 'remedy_id' THEN p.f ->> 'remedy_id' ELSE r.remedy_id END AS remedy_id,
    CASE WHEN p.f ? 'remedy_cost_cny' THEN NULLIF(p.f ->> 'remedy_cost_cny', '')::double precision
         ELSE r.remedy_cost_cny END AS remedy_cost_cny,
    CASE WHEN p.f ? 'batch' THEN NULLIF(p.f ->> 'batch', '')::double precision ELSE r.batch END AS batch,
    CASE WHEN p.f ? 'year' THEN NULLIF(p.f ->> 'year', '')::double precision ELSE r.year END AS year,
    CASE WHEN p.f ? 'funding' THEN p.f ->> 'funding' ELSE r.funding END AS funding,
    CASE WHEN p.f ? 'plan_detail' THEN p.f ->> 'plan_detail' ELSE r.plan_detail END AS plan_detail,
    p.status, p.status_date, COALESCE(n.note, '') AS note,
    CASE WHEN p.f ? 'measured_mbps' THEN NULLIF(p.f ->> 'measured_mbps', '')::double precision
         ELSE r.measured_mbps END AS measured_mbps,
    CASE WHEN p.f ? 'reason' THEN p.f ->> 'reason' ELSE r.reason END AS reason,
    r.operator, r.division_code, r.designated_county, r.contiguous_poverty_area, r.deep_poverty,
    p.f ->> 'fibre_status_telecom' AS fibre_status_telecom,
    p.f ->> 'fibre_status_unicom' AS fibre_status_unicom,
    p.f ->> 'fibre_status_mobile' AS fibre_status_mobile,
    p.f ->> 'lte_status_telecom' AS lte_status_telecom,
    p.f ->> 'lte_status_unicom' AS lte_status_unicom,
    p.f ->> 'lte_status_mobile' AS lte_status_mobile,
    NULLIF(p.f ->> 'access_mbps', '')::double precision AS access_mbps,
    p.f ->> 'usf_included' AS usf_included,
    p.f ->> 'usf_batch' AS usf_batch,
    p.f ->> 'unconnected_reason' AS unconnected_reason,
    p.f ->> 'builder' AS builder,
    p.f ->> 'accepted_by' AS accepted_by,
    p.f ->> 'accepted_on' AS accepted_on,
    r.geom
FROM ledger_rows r JOIN p ON p.id = r.id LEFT JOIN reported n ON n.id = r.id;

-- privileges: editors read their rows and add events to them; the province reads everything; nobody but the
-- owner adds rows, and nobody changes or deletes an event (the triggers refuse it even to the owner)
REVOKE ALL ON ledger_meta, ledger_editors, ledger_rows, ledger_events, ledger FROM PUBLIC;
GRANT SELECT ON ledger_meta, ledger_rows, ledger_events, ledger, schema_version
    TO coverplan_editor, coverplan_province;
GRANT SELECT ON ledger_editors TO coverplan_province;
GRANT INSERT (id, event_date, field, old, new, note, source, forced) ON ledger_events TO coverplan_editor;

ALTER TABLE ledger_rows ENABLE ROW LEVEL SECURITY;
ALTER TABLE ledger_events ENABLE ROW LEVEL SECURITY;
CREATE POLICY province_reads_rows ON ledger_rows FOR SELECT TO coverplan_province USING (true);
CREATE POLICY editor_reads_rows ON ledger_rows FOR SELECT TO coverplan_editor
    USING (ledger_may_edit(id, current_user));
CREATE POLICY province_reads_events ON ledger_events FOR SELECT TO coverplan_province USING (true);
CREATE POLICY editor_reads_events ON ledger_events FOR SELECT TO coverplan_editor
    USING (ledger_may_edit(id, current_user));
CREATE POLICY editor_adds_events ON ledger_events FOR INSERT TO coverplan_editor
    WITH CHECK (recorded_by = current_user AND ledger_may_edit(id, current_user));
