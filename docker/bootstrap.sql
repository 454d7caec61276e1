-- PULSE Analytics Postgres: local bootstrap (roles, database pulse_analytics, grants, default privileges).
-- Generated from src/roles/role-model.ts by `npm run db:bootstrap-sql -- --out docker/bootstrap.sql`; do not edit by hand.
\set ON_ERROR_STOP on
\getenv admin_password PULSE_LOCAL_ADMIN_PASSWORD
\if :{?admin_password}
\else
  DO $$ BEGIN RAISE EXCEPTION 'PULSE_LOCAL_ADMIN_PASSWORD is not set: set it in .env (see .env.example)'; END $$;
\endif
\getenv migrator_password PULSE_LOCAL_MIGRATOR_PASSWORD
\if :{?migrator_password}
\else
  DO $$ BEGIN RAISE EXCEPTION 'PULSE_LOCAL_MIGRATOR_PASSWORD is not set: set it in .env (see .env.example)'; END $$;
\endif
\getenv app_password PULSE_LOCAL_APP_PASSWORD
\if :{?app_password}
\else
  DO $$ BEGIN RAISE EXCEPTION 'PULSE_LOCAL_APP_PASSWORD is not set: set it in .env (see .env.example)'; END $$;
\endif
\getenv readonly_password PULSE_LOCAL_READONLY_PASSWORD
\if :{?readonly_password}
\else
  DO $$ BEGIN RAISE EXCEPTION 'PULSE_LOCAL_READONLY_PASSWORD is not set: set it in .env (see .env.example)'; END $$;
\endif

-- As the superuser: the admin role (the local stand-in for the RDS master user).
DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'pulse_admin') THEN CREATE ROLE "pulse_admin" LOGIN CREATEROLE CREATEDB; END IF; END $$;
ALTER ROLE "pulse_admin" LOGIN CREATEROLE CREATEDB NOSUPERUSER PASSWORD :'admin_password';

-- As the admin, like the cloud deploy: the roles of the role model.
SET ROLE "pulse_admin";
DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'pulse_analytics_owner') THEN CREATE ROLE "pulse_analytics_owner" NOLOGIN; END IF; END $$;
ALTER ROLE "pulse_analytics_owner" NOLOGIN PASSWORD NULL;
DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'pulse_analytics_migrator') THEN CREATE ROLE "pulse_analytics_migrator" NOLOGIN; END IF; END $$;
ALTER ROLE "pulse_analytics_migrator" NOLOGIN PASSWORD NULL;
GRANT "pulse_analytics_owner" TO "pulse_analytics_migrator";
DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'pulse_analytics_migrator_a') THEN CREATE ROLE "pulse_analytics_migrator_a" LOGIN; END IF; END $$;
ALTER ROLE "pulse_analytics_migrator_a" LOGIN PASSWORD :'migrator_password';
GRANT "pulse_analytics_migrator" TO "pulse_analytics_migrator_a";
DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'pulse_analytics_migrator_b') THEN CREATE ROLE "pulse_analytics_migrator_b" LOGIN; END IF; END $$;
ALTER ROLE "pulse_analytics_migrator_b" LOGIN PASSWORD :'migrator_password';
GRANT "pulse_analytics_migrator" TO "pulse_analytics_migrator_b";
DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'pulse_analytics_app') THEN CREATE ROLE "pulse_analytics_app" NOLOGIN; END IF; END $$;
ALTER ROLE "pulse_analytics_app" NOLOGIN PASSWORD NULL;
ALTER ROLE "pulse_analytics_app" RESET idle_in_transaction_session_timeout;
DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'pulse_analytics_app_a') THEN CREATE ROLE "pulse_analytics_app_a" LOGIN; END IF; END $$;
ALTER ROLE "pulse_analytics_app_a" LOGIN PASSWORD :'app_password';
GRANT "pulse_analytics_app" TO "pulse_analytics_app_a";
ALTER ROLE "pulse_analytics_app_a" SET idle_in_transaction_session_timeout = 10000;
DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'pulse_analytics_app_b') THEN CREATE ROLE "pulse_analytics_app_b" LOGIN; END IF; END $$;
ALTER ROLE "pulse_analytics_app_b" LOGIN PASSWORD :'app_password';
GRANT "pulse_analytics_app" TO "pulse_analytics_app_b";
ALTER ROLE "pulse_analytics_app_b" SET idle_in_transaction_session_timeout = 10000;
DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'pulse_analytics_readonly') THEN CREATE ROLE "pulse_analytics_readonly" NOLOGIN; END IF; END $$;
ALTER ROLE "pulse_analytics_readonly" NOLOGIN PASSWORD NULL;
DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'pulse_analytics_readonly_a') THEN CREATE ROLE "pulse_analytics_readonly_a" LOGIN; END IF; END $$;
ALTER ROLE "pulse_analytics_readonly_a" LOGIN PASSWORD :'readonly_password';
GRANT "pulse_analytics_readonly" TO "pulse_analytics_readonly_a";
DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'pulse_analytics_readonly_b') THEN CREATE ROLE "pulse_analytics_readonly_b" LOGIN; END IF; END $$;
ALTER ROLE "pulse_analytics_readonly_b" LOGIN PASSWORD :'readonly_password';
GRANT "pulse_analytics_readonly" TO "pulse_analytics_readonly_b";
GRANT "pulse_analytics_owner" TO "pulse_admin";
SELECT 'CREATE DATABASE "pulse_analytics" OWNER "pulse_analytics_owner" ENCODING ''UTF8'';' WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_database WHERE datname = 'pulse_analytics') \gexec

\connect "pulse_analytics"
SET ROLE "pulse_admin";
CREATE SCHEMA IF NOT EXISTS "analytics" AUTHORIZATION "pulse_analytics_owner";
REVOKE ALL ON DATABASE "pulse_analytics" FROM PUBLIC;
REVOKE ALL ON SCHEMA "public" FROM PUBLIC;
GRANT USAGE ON SCHEMA "public" TO PUBLIC;
REVOKE ALL ON DATABASE "pulse_analytics" FROM "pulse_analytics_app";
GRANT CONNECT ON DATABASE "pulse_analytics" TO "pulse_analytics_app";
REVOKE ALL ON SCHEMA "analytics" FROM "pulse_analytics_app";
GRANT USAGE ON SCHEMA "analytics" TO "pulse_analytics_app";
REVOKE ALL ON ALL TABLES IN SCHEMA "analytics" FROM "pulse_analytics_app";
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "analytics" TO "pulse_analytics_app";
ALTER DEFAULT PRIVILEGES FOR ROLE "pulse_analytics_owner" IN SCHEMA "analytics" REVOKE ALL ON TABLES FROM "pulse_analytics_app";
ALTER DEFAULT PRIVILEGES FOR ROLE "pulse_analytics_owner" IN SCHEMA "analytics" GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO "pulse_analytics_app";
REVOKE ALL ON ALL SEQUENCES IN SCHEMA "analytics" FROM "pulse_analytics_app";
GRANT SELECT, USAGE ON ALL SEQUENCES IN SCHEMA "analytics" TO "pulse_analytics_app";
ALTER DEFAULT PRIVILEGES FOR ROLE "pulse_analytics_owner" IN SCHEMA "analytics" REVOKE ALL ON SEQUENCES FROM "pulse_analytics_app";
ALTER DEFAULT PRIVILEGES FOR ROLE "pulse_analytics_owner" IN SCHEMA "analytics" GRANT SELECT, USAGE ON SEQUENCES TO "pulse_analytics_app";
REVOKE ALL ON DATABASE "pulse_analytics" FROM "pulse_analytics_readonly";
GRANT CONNECT ON DATABASE "pulse_analytics" TO "pulse_analytics_readonly";
REVOKE ALL ON SCHEMA "analytics" FROM "pulse_analytics_readonly";
GRANT USAGE ON SCHEMA "analytics" TO "pulse_analytics_readonly";
REVOKE ALL ON ALL TABLES IN SCHEMA "analytics" FROM "pulse_analytics_readonly";
GRANT SELECT ON ALL TABLES IN SCHEMA "analytics" TO "pulse_analytics_readonly";
ALTER DEFAULT PRIVILEGES FOR ROLE "pulse_analytics_owner" IN SCHEMA "analytics" REVOKE ALL ON TABLES FROM "pulse_analytics_readonly";
ALTER DEFAULT PRIVILEGES FOR ROLE "pulse_analytics_owner" IN SCHEMA "analytics" GRANT SELECT ON TABLES TO "pulse_analytics_readonly";
REVOKE ALL ON ALL SEQUENCES IN SCHEMA "analytics" FROM "pulse_analytics_readonly";
GRANT SELECT ON ALL SEQUENCES IN SCHEMA "analytics" TO "pulse_analytics_readonly";
ALTER DEFAULT PRIVILEGES FOR ROLE "pulse_analytics_owner" IN SCHEMA "analytics" REVOKE ALL ON SEQUENCES FROM "pulse_analytics_readonly";
ALTER DEFAULT PRIVILEGES FOR ROLE "pulse_analytics_owner" IN SCHEMA "analytics" GRANT SELECT ON SEQUENCES TO "pulse_analytics_readonly";
