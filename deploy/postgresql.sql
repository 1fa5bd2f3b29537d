-- The database's privileges for leafletpress (docs/install.md, "Database"). Two roles: one owns
-- the tables and runs the migrations (leafletpress-migrate.service, eigenaar.env), the app runs
-- as the other, which may read and write rows but not change or drop tables, nor switch off
-- the audit table's triggers. First, as a superuser:
--   CREATE ROLE leafletpress_eigenaar LOGIN PASSWORD '…';
--   CREATE ROLE leafletpress LOGIN PASSWORD '…';
--   CREATE DATABASE leafletpress OWNER leafletpress_eigenaar;
-- then this file, as a superuser, in that database:
--   psql -d leafletpress -v ON_ERROR_STOP=1 -f postgresql.sql
-- It can run again at any time (after a restore, say): it only grants.

GRANT CONNECT ON DATABASE leafletpress TO leafletpress;
GRANT USAGE ON SCHEMA public TO leafletpress;
-- The tables there are now...
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO leafletpress;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO leafletpress;
-- ...and every table and sequence a later release's migration makes (without these two, the app
-- cannot read the first new table after an upgrade).
ALTER DEFAULT PRIVILEGES FOR ROLE leafletpress_eigenaar IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO leafletpress;
ALTER DEFAULT PRIVILEGES FOR ROLE leafletpress_eigenaar IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO leafletpress;
