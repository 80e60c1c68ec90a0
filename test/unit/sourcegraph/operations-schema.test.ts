import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  buildSchema,
  type GraphQLArgument,
  type GraphQLNamedType,
  type GraphQLSchema,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  isScalarType,
  parse,
  print,
  validate,
} from 'graphql';
import { describe, expect, it } from 'vitest';
import { ALL_OPERATIONS } from '../../../shared/sourcegraph/operations.ts';
import { loadSchemaSdl } from '../../../shared/sourcegraph/schema.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
// Third-party reference data kept outside the repository; absent on most machines and in CI.
const realSchemaPath = path.resolve(repoRoot, '../shared/sourcegraph/schema-5.1.graphql');
const hasRealSchema = existsSync(realSchemaPath);

const ownSchema = buildSchema(loadSchemaSdl());

function validationErrors(schema: GraphQLSchema, document: string): string[] {
  return validate(schema, parse(document)).map((error) => error.message);
}

/** Kind, plus field / argument / enum value signatures: everything a subset must agree on. */
function signatures(type: GraphQLNamedType): Map<string, string> {
  const out = new Map<string, string>([['kind', kindOf(type)]]);
  if (isObjectType(type) || isInterfaceType(type) || isInputObjectType(type)) {
    for (const field of Object.values(type.getFields())) {
      out.set(`field ${field.name}`, String(field.type));
      const args: readonly GraphQLArgument[] = 'args' in field ? field.args : [];
      for (const arg of args) {
        out.set(`arg ${field.name}(${arg.name})`, `${arg.type}${defaultOf(arg)}`);
      }
    }
  }
  if (isEnumType(type)) {
    for (const value of type.getValues()) {
      out.set(`value ${value.name}`, value.name);
    }
  }
  return out;
}

function kindOf(type: GraphQLNamedType): string {
  if (isObjectType(type)) return 'object';
  if (isInterfaceType(type)) return 'interface';
  if (isInputObjectType(type)) return 'input';
  if (isEnumType(type)) return 'enum';
  if (isScalarType(type)) return 'scalar';
  return 'union';
}

function defaultOf(arg: GraphQLArgument): string {
  const value = arg.astNode?.defaultValue;
  return value ? ` = ${print(value)}` : '';
}

const ownTypes = Object.values(ownSchema.getTypeMap()).filter((type) => !type.name.startsWith('__'));

describe('GraphQL operations', () => {
  it('names every operation after its constant', () => {
    for (const operation of ALL_OPERATIONS) {
      expect(operation.document).toMatch(new RegExp(`^\\s*(query|mutation) ${operation.name}\\b`));
    }
  });

  it.each(ALL_OPERATIONS.map((operation) => [operation.name, operation.document]))(
    '%s is valid against our SDL subset',
    (_name, document) => {
      expect(validationErrors(ownSchema, document)).toEqual([]);
    },
  );

  describe.runIf(hasRealSchema)("against Sourcegraph's 5.1 schema", () => {
    // Loaded lazily: describe bodies run even when the block is skipped.
    const realSchema = () => buildSchema(readFileSync(realSchemaPath, 'utf8'));

    it('validates every operation', () => {
      const schema = realSchema();
      for (const operation of ALL_OPERATIONS) {
        expect({ name: operation.name, errors: validationErrors(schema, operation.document) }).toEqual({
          name: operation.name,
          errors: [],
        });
      }
    });

    it('contains our subset with identical signatures', () => {
      const schema = realSchema();
      const mismatches: string[] = [];
      for (const type of ownTypes) {
        const real = schema.getType(type.name);
        if (real === undefined) {
          mismatches.push(`${type.name}: missing`);
          continue;
        }
        const realSignatures = signatures(real);
        for (const [key, signature] of signatures(type)) {
          if (realSignatures.get(key) !== signature) {
            mismatches.push(`${type.name} ${key}: ours ${signature}, real ${realSignatures.get(key) ?? 'missing'}`);
          }
        }
      }
      expect(mismatches).toEqual([]);
      expect(schema.getQueryType()?.name).toBe(ownSchema.getQueryType()?.name);
      expect(schema.getMutationType()?.name).toBe(ownSchema.getMutationType()?.name);
    });
  });
});
