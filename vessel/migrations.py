"""Schema versions, oldest first. Never edit a released step: add a new one.

PRAGMA user_version holds how many steps a database has had; store.upgrade
applies the missing ones in one transaction. Times are ISO 8601 UTC text
ending in 'Z' (SQLite's date functions read them as they are).
"""

V1 = [
    """CREATE TABLE ship (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        ship_id TEXT NOT NULL,
        name TEXT NOT NULL,
        campaign_code TEXT NOT NULL,
        campaign_name TEXT NOT NULL,
        created_at TEXT NOT NULL
    )""",
    """CREATE TABLE stations (
        code TEXT PRIMARY KEY,
        letter TEXT NOT NULL,
        name_es TEXT NOT NULL,
        name_en TEXT NOT NULL,
        institution TEXT NOT NULL,
        desks INTEGER NOT NULL,
        priority_streak INTEGER NOT NULL DEFAULT 0
    )""",
    """CREATE TABLE stops (
        id INTEGER PRIMARY KEY,
        seq INTEGER NOT NULL UNIQUE,
        community TEXT NOT NULL,
        lat REAL NOT NULL,
        lon REAL NOT NULL,
        planned_arrive TEXT NOT NULL,
        planned_depart TEXT NOT NULL,
        stations TEXT NOT NULL,
        arrived_at TEXT,
        arrived_by TEXT,
        departed_at TEXT,
        departed_by TEXT,
        purged_at TEXT
    )""",
    """CREATE TABLE counters (
        stop_id INTEGER NOT NULL REFERENCES stops(id),
        name TEXT NOT NULL,
        value INTEGER NOT NULL,
        PRIMARY KEY (stop_id, name)
    )""",
    """CREATE TABLE operators (
        id INTEGER PRIMARY KEY,
        login TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('coordinator', 'registration', 'station', 'bridge')),
        station TEXT REFERENCES stations(code),
        pin_hash TEXT NOT NULL,
        failed_pins INTEGER NOT NULL DEFAULT 0,
        locked_until TEXT,
        active INTEGER NOT NULL DEFAULT 1,
        created_at TEXT NOT NULL
    )""",
    """CREATE TABLE desks (
        code TEXT PRIMARY KEY,
        station TEXT NOT NULL REFERENCES stations(code),
        number INTEGER NOT NULL,
        state TEXT NOT NULL DEFAULT 'closed' CHECK (state IN ('closed', 'open', 'paused')),
        pause_reason TEXT,
        operator_id INTEGER REFERENCES operators(id),
        changed_at TEXT,
        UNIQUE (station, number)
    )""",
    """CREATE TABLE citizens (
        id INTEGER PRIMARY KEY,
        dni TEXT UNIQUE,
        given_names TEXT NOT NULL,
        surnames TEXT NOT NULL,
        name_key TEXT NOT NULL,
        birth_date TEXT,
        sex TEXT CHECK (sex IN ('F', 'M', 'X')),
        language TEXT,
        conditions TEXT NOT NULL DEFAULT '[]',
        stop_id INTEGER REFERENCES stops(id),
        registered_at TEXT NOT NULL,
        registered_by INTEGER REFERENCES operators(id),
        purged_at TEXT
    )""",
    "CREATE INDEX citizens_name_key ON citizens(name_key)",
    """CREATE TABLE tickets (
        id INTEGER PRIMARY KEY,
        stop_id INTEGER NOT NULL REFERENCES stops(id),
        number INTEGER NOT NULL,
        citizen_id INTEGER REFERENCES citizens(id),
        priority_class TEXT,
        issued_at TEXT NOT NULL,
        issued_by INTEGER REFERENCES operators(id),
        UNIQUE (stop_id, number)
    )""",
    """CREATE TABLE steps (
        id INTEGER PRIMARY KEY,
        ticket_id INTEGER NOT NULL REFERENCES tickets(id),
        position INTEGER NOT NULL,
        station TEXT NOT NULL REFERENCES stations(code),
        state TEXT NOT NULL CHECK (state IN
            ('pending', 'waiting', 'called', 'serving', 'done', 'missed', 'cancelled', 'transferred')),
        priority INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        enqueued_at TEXT,
        called_at TEXT,
        first_called_at TEXT,
        call_count INTEGER NOT NULL DEFAULT 0,
        desk TEXT REFERENCES desks(code),
        started_at TEXT,
        finished_at TEXT,
        outcome TEXT,
        notes TEXT,
        from_step INTEGER REFERENCES steps(id),
        UNIQUE (ticket_id, position)
    )""",
    "CREATE INDEX steps_queue ON steps(station, state, enqueued_at)",
    "CREATE INDEX steps_ticket ON steps(ticket_id)",
    """CREATE TABLE step_history (
        id INTEGER PRIMARY KEY,
        step_id INTEGER NOT NULL REFERENCES steps(id),
        at TEXT NOT NULL,
        from_state TEXT,
        to_state TEXT NOT NULL,
        desk TEXT,
        operator_id INTEGER REFERENCES operators(id),
        note TEXT
    )""",
    "CREATE INDEX step_history_step ON step_history(step_id)",
    """CREATE TABLE desk_history (
        id INTEGER PRIMARY KEY,
        desk TEXT NOT NULL REFERENCES desks(code),
        at TEXT NOT NULL,
        state TEXT NOT NULL,
        reason TEXT,
        operator_id INTEGER REFERENCES operators(id)
    )""",
    """CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        kind TEXT NOT NULL,
        operator_id INTEGER,
        stop_id INTEGER,
        payload TEXT NOT NULL
    )""",
    "CREATE INDEX events_kind ON events(kind)",
    """CREATE TABLE track_points (
        id INTEGER PRIMARY KEY,
        t_receiver TEXT NOT NULL,
        t_host TEXT NOT NULL,
        lat REAL NOT NULL,
        lon REAL NOT NULL,
        speed_kn REAL,
        course REAL,
        mode TEXT NOT NULL,
        sats INTEGER,
        hdop REAL,
        reason TEXT NOT NULL,
        ledgered INTEGER NOT NULL DEFAULT 0
    )""",
    "CREATE INDEX track_points_time ON track_points(t_receiver)",
    """CREATE TABLE gps_status (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        updated_at TEXT NOT NULL,
        state TEXT NOT NULL,
        port TEXT,
        baud INTEGER,
        last_fix_at TEXT,
        lat REAL,
        lon REAL,
        speed_kn REAL,
        course REAL,
        mode TEXT,
        sats INTEGER,
        hdop REAL,
        counters TEXT NOT NULL DEFAULT '{}'
    )""",
]

# Indexes for the screens that refresh whenever any terminal writes: who is at a desk now and who
# waits (state, time); and per station and state, the latest services (for the estimated waits)
# and, with the ticket, the day's counts read from the index alone.
V2 = [
    "CREATE INDEX steps_state ON steps(state, enqueued_at)",
    "CREATE INDEX steps_done ON steps(station, state, finished_at, ticket_id)",
]

# Lookups by citizen and by stop: the purge after an offload asks, for every
# citizen, at which stops they had tickets; without these it read every ticket
# once per citizen, and its time grew with the square of the campaign.
V3 = [
    "CREATE INDEX tickets_citizen ON tickets(citizen_id)",
    "CREATE INDEX citizens_stop ON citizens(stop_id)",
    "CREATE INDEX events_stop ON events(stop_id)",
]

MIGRATIONS: list[list[str]] = [V1, V2, V3]
