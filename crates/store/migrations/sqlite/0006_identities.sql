-- Identities an identity provider keeps in Bantay over SCIM 2.0 (issue 6): each User
-- and Group as the provider last wrote it (JSON, attribute names in the schema's
-- spelling), and for a User the person it is. id is the SCIM id, which for a User is
-- the person's id.
CREATE TABLE identities (
    resource_type TEXT NOT NULL,
    id            TEXT NOT NULL,
    body          TEXT NOT NULL,
    person        TEXT REFERENCES personnel (id),
    created       INTEGER NOT NULL,
    modified      INTEGER NOT NULL,
    version       INTEGER NOT NULL,
    seq           INTEGER NOT NULL,
    PRIMARY KEY (resource_type, id)
);

-- A token for one protocol only: `scim` tokens are an identity provider's and serve
-- /scim/v2 alone; tokens without a scope are a person's and serve the API alone.
ALTER TABLE api_tokens ADD COLUMN scope TEXT;
