-- A token that may force (`sclman token create NAME --role operator --force`): its resize and
-- remove through sclman serve may go outside the policy's [min, max], moving the bound with the
-- size, as scale-out/scale-in --to N --force and remove --force do on the command line. 0 or 1,
-- checked when read back; a viewer's is always 0.
ALTER TABLE tokens ADD COLUMN can_force INTEGER NOT NULL DEFAULT 0;
