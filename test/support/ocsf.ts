// A small OCSF validator for the tests: checks an emitted event against the definition files in
// test/fixtures/ocsf/<version>/ (extracts of the published schema; see their headers): required
// attributes (and those a profile named in metadata.profiles requires), at_least_one constraints,
// the dictionary's scalar types, arrays, enum ids and their string siblings, type_uid =
// class_uid * 100 + activity_id, and no attribute the definitions do not know, at any level.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { z } from 'zod';

const attributeSchema = z.strictObject({
  type: z.string(),
  object: z.string().optional(),
  is_array: z.boolean().optional(),
  requirement: z.enum(['required', 'recommended', 'optional']),
  enum: z.record(z.string(), z.string()).optional(),
  sibling: z.string().optional(),
  profile: z.string().optional(),
});

const definitionSchema = z.strictObject({
  name: z.string(),
  at_least_one: z.array(z.string()).optional(),
  attributes: z.record(z.string(), attributeSchema),
});

export type OcsfDefinition = z.infer<typeof definitionSchema>;
type Attribute = z.infer<typeof attributeSchema>;

/** Every definition file of one schema version, by class or object name. */
export function loadOcsfDefinitions(version: string): Map<string, OcsfDefinition> {
  const dir = fileURLToPath(new URL(`../fixtures/ocsf/${version}/`, import.meta.url));
  const defs = new Map<string, OcsfDefinition>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml'))) {
    const def = definitionSchema.parse(parse(readFileSync(`${dir}${file}`, 'utf8')));
    defs.set(def.name, def);
  }
  return defs;
}

const STRING_TYPES = new Set(['string_t', 'username_t', 'resource_uid_t', 'email_t', 'url_t', 'hostname_t', 'ip_t']);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function scalarError(type: string, v: unknown): string | null {
  if (STRING_TYPES.has(type)) return typeof v === 'string' ? null : `expected a string (${type})`;
  switch (type) {
    case 'integer_t':
      return Number.isInteger(v) && Math.abs(v as number) <= 2 ** 31 - 1 ? null : 'expected a 32-bit integer';
    case 'long_t':
    case 'timestamp_t':
      return Number.isSafeInteger(v) ? null : `expected an integer (${type})`;
    case 'float_t':
      return typeof v === 'number' ? null : 'expected a number';
    case 'boolean_t':
      return typeof v === 'boolean' ? null : 'expected a boolean';
    case 'json_t':
      return v === undefined ? 'expected a JSON value' : null;
    default:
      return `unknown scalar type ${type} in the definitions`;
  }
}

class Validator {
  readonly errors: string[] = [];

  constructor(
    private readonly defs: Map<string, OcsfDefinition>,
    private readonly profiles: Set<string>,
  ) {}

  object(value: unknown, name: string, path: string): void {
    const def = this.defs.get(name);
    if (!def) {
      this.errors.push(`${path}: no definition for object '${name}' in the fixtures (add one, or do not emit it)`);
      return;
    }
    if (!isPlainObject(value)) {
      this.errors.push(`${path}: expected a ${name} object`);
      return;
    }
    for (const key of Object.keys(value)) {
      if (!(key in def.attributes)) this.errors.push(`${path}.${key}: not an attribute of ${name}`);
    }
    for (const [key, attr] of Object.entries(def.attributes)) {
      const required =
        attr.requirement === 'required' && (attr.profile === undefined || this.profiles.has(attr.profile));
      if (value[key] === undefined) {
        if (required)
          this.errors.push(`${path}.${key}: required by ${name}${attr.profile ? ` (${attr.profile} profile)` : ''}`);
        continue;
      }
      this.attribute(value[key], attr, `${path}.${key}`);
      this.sibling(value, key, attr, path);
    }
    if (def.at_least_one && !def.at_least_one.some((k) => value[k] !== undefined)) {
      this.errors.push(`${path}: ${name} needs at least one of ${def.at_least_one.join(', ')}`);
    }
  }

  private attribute(v: unknown, attr: Attribute, path: string): void {
    if (attr.is_array) {
      if (!Array.isArray(v)) {
        this.errors.push(`${path}: expected an array`);
        return;
      }
      v.forEach((item, i) => this.single(item, attr, `${path}[${i}]`));
      return;
    }
    this.single(v, attr, path);
  }

  private single(v: unknown, attr: Attribute, path: string): void {
    if (attr.type === 'object') {
      if (attr.object === 'object') {
        if (!isPlainObject(v)) this.errors.push(`${path}: expected an object`);
        return;
      }
      this.object(v, attr.object ?? '?', path);
      return;
    }
    const err = scalarError(attr.type, v);
    if (err) {
      this.errors.push(`${path}: ${err}, got ${JSON.stringify(v)}`);
      return;
    }
    if (attr.enum && !(String(v) in attr.enum)) {
      this.errors.push(`${path}: ${JSON.stringify(v)} is not one of ${Object.keys(attr.enum).join(', ')}`);
    }
  }

  /** An enum's string sibling is its caption, except for Other (99), where the source's word goes. */
  private sibling(value: Record<string, unknown>, key: string, attr: Attribute, path: string): void {
    if (!attr.enum || !attr.sibling || value[attr.sibling] === undefined) return;
    const id = String(value[key]);
    if (id === '99') return;
    const caption = attr.enum[id];
    if (caption !== undefined && value[attr.sibling] !== caption) {
      this.errors.push(
        `${path}.${attr.sibling}: should be '${caption}' (the caption of ${key} ${id}), got ${JSON.stringify(value[attr.sibling])}`,
      );
    }
  }
}

/** The problems of one event against a class definition (empty: valid). */
export function validateOcsf(event: unknown, className: string, defs: Map<string, OcsfDefinition>): string[] {
  const profiles = new Set<string>();
  if (isPlainObject(event) && isPlainObject(event['metadata']) && Array.isArray(event['metadata']['profiles'])) {
    for (const p of event['metadata']['profiles']) if (typeof p === 'string') profiles.add(p);
  }
  const v = new Validator(defs, profiles);
  v.object(event, className, className);
  if (isPlainObject(event)) {
    const { class_uid, activity_id, type_uid } = event;
    if (
      typeof class_uid === 'number' &&
      typeof activity_id === 'number' &&
      type_uid !== class_uid * 100 + activity_id
    ) {
      v.errors.push(
        `${className}.type_uid: should be class_uid * 100 + activity_id = ${class_uid * 100 + activity_id}, got ${JSON.stringify(type_uid)}`,
      );
    }
  }
  return v.errors;
}
