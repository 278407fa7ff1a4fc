"""The DDL of the portal's users, dictionaries and tasks: one owner for each of these tables.

The seed modules fill them and the method modules read and write them; neither declares them.
:mod:`.store` runs :data:`DDL` in every new Store, before the tables other data modules declare
with :func:`~.store.register_schema` (CRM records: ``methods/crm_store.py``; stage history:
``history.py``; products: ``products.py``; activities, smart processes, files: their own modules).

Example::

    store = Store()
    store.scalar("SELECT COUNT(*) FROM b_task")  # 0
"""

USERS = """
CREATE TABLE IF NOT EXISTS b_department (id INTEGER PRIMARY KEY, name TEXT, sort INTEGER,
  parent_id INTEGER, head_id INTEGER);
CREATE TABLE IF NOT EXISTS b_user (id INTEGER PRIMARY KEY, active TEXT NOT NULL DEFAULT 'Y',
  xml_id TEXT, name TEXT, last_name TEXT, second_name TEXT, title TEXT, email TEXT,
  last_login INTEGER, date_register INTEGER, time_zone TEXT, is_online TEXT, timestamp_x INTEGER,
  last_activity_date INTEGER, personal_gender TEXT, personal_www TEXT, personal_birthday TEXT,
  personal_photo TEXT, personal_mobile TEXT, personal_city TEXT, work_phone TEXT,
  work_position TEXT, uf_employment_date TEXT, uf_department TEXT, uf_phone_inner TEXT,
  user_type TEXT NOT NULL DEFAULT 'employee', is_admin TEXT NOT NULL DEFAULT 'N');
"""
"""Users and departments (``user.get``, ``department`` names)."""

DICTIONARIES = """
CREATE TABLE IF NOT EXISTS crm_status (id INTEGER PRIMARY KEY, entity_id TEXT NOT NULL,
  status_id TEXT NOT NULL, name TEXT, name_init TEXT, sort INTEGER, system TEXT, category_id INTEGER,
  color TEXT, semantics TEXT);
CREATE INDEX IF NOT EXISTS crm_status_entity ON crm_status (entity_id, sort);
CREATE TABLE IF NOT EXISTS crm_category (id INTEGER PRIMARY KEY, entity_type_id INTEGER, name TEXT,
  sort INTEGER, is_default TEXT, created_at INTEGER);
CREATE TABLE IF NOT EXISTS crm_currency (currency TEXT PRIMARY KEY, amount_cnt INTEGER, amount REAL,
  sort INTEGER, base TEXT, full_name TEXT, format_string TEXT, dec_point TEXT, thousands_sep TEXT,
  decimals INTEGER, date_update INTEGER);
CREATE TABLE IF NOT EXISTS crm_userfield (id INTEGER PRIMARY KEY, entity_id TEXT, field_name TEXT,
  user_type_id TEXT, xml_id TEXT, sort INTEGER, multiple TEXT, mandatory TEXT, settings TEXT,
  label TEXT);
CREATE TABLE IF NOT EXISTS crm_userfield_enum (id INTEGER PRIMARY KEY, field_id INTEGER, value TEXT,
  sort INTEGER, def TEXT, xml_id TEXT);
"""
"""Statuses, pipelines, currencies, user fields and their enumerations (the CRM dictionaries)."""

TASKS = """
CREATE TABLE IF NOT EXISTS b_task (id INTEGER PRIMARY KEY AUTOINCREMENT, parent_id INTEGER,
  title TEXT NOT NULL, description TEXT NOT NULL DEFAULT '', mark TEXT,
  priority INTEGER NOT NULL DEFAULT 1, multitask TEXT NOT NULL DEFAULT 'N',
  not_viewed TEXT NOT NULL DEFAULT 'N', replicate TEXT NOT NULL DEFAULT 'N',
  stage_id INTEGER NOT NULL DEFAULT 0, created_by INTEGER NOT NULL, created_date INTEGER,
  responsible_id INTEGER NOT NULL, changed_by INTEGER, changed_date INTEGER,
  status_changed_by INTEGER, status_changed_date INTEGER, closed_by INTEGER, closed_date INTEGER,
  activity_date INTEGER, date_start INTEGER, deadline INTEGER, start_date_plan INTEGER,
  end_date_plan INTEGER, guid TEXT, xml_id TEXT, comments_count INTEGER,
  allow_change_deadline TEXT NOT NULL DEFAULT 'N', allow_time_tracking TEXT NOT NULL DEFAULT 'N',
  task_control TEXT NOT NULL DEFAULT 'N', add_in_report TEXT NOT NULL DEFAULT 'N',
  time_estimate INTEGER NOT NULL DEFAULT 0, match_work_time TEXT NOT NULL DEFAULT 'N',
  forum_topic_id INTEGER, outlook_version INTEGER NOT NULL DEFAULT 1, viewed_date INTEGER,
  duration_fact INTEGER, duration_plan INTEGER, duration_type TEXT NOT NULL DEFAULT 'days',
  is_muted TEXT NOT NULL DEFAULT 'N', is_pinned TEXT NOT NULL DEFAULT 'N',
  status INTEGER NOT NULL DEFAULT 2, favorite TEXT NOT NULL DEFAULT 'N',
  group_id INTEGER NOT NULL DEFAULT 0, auditors TEXT NOT NULL DEFAULT '[]',
  accomplices TEXT NOT NULL DEFAULT '[]');
CREATE INDEX IF NOT EXISTS b_task_responsible ON b_task (responsible_id);
CREATE INDEX IF NOT EXISTS b_task_deadline ON b_task (deadline);
CREATE TABLE IF NOT EXISTS b_task_crm (task_id INTEGER NOT NULL, code TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS b_task_crm_task ON b_task_crm (task_id, code);
CREATE INDEX IF NOT EXISTS b_task_crm_code ON b_task_crm (code);
CREATE TABLE IF NOT EXISTS b_task_tag (id INTEGER PRIMARY KEY AUTOINCREMENT, task_id INTEGER NOT NULL,
  name TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS b_task_tag_task ON b_task_tag (task_id);
"""
"""Tasks, their CRM bindings and tags."""

DDL = (USERS, DICTIONARIES, TASKS)
