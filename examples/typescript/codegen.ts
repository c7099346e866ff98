// graphql-codegen's client preset: the types of every query in src/ come from soilapi's
// schema.graphql, so a misspelt field or an unchecked null fails `tsc --strict`.
import type { CodegenConfig } from "@graphql-codegen/cli";

const config: CodegenConfig = {
  schema: process.env.SOILAPI_SCHEMA ?? "../../schema.graphql",
  documents: ["src/**/*.ts", "!src/gql/**"],
  emitLegacyCommonJSImports: false, // imports end in .js, as Node's ES modules need
  generates: {
    "src/gql/": {
      preset: "client",
      config: { documentMode: "string", enumsAsTypes: true, useTypeImports: true },
      // Each document carries its SHA-256, and src/gql/persisted-documents.json lists them
      // all: the manifest a server locked to this app's documents runs (TRUSTED_DOCUMENTS).
      presetConfig: { fragmentMasking: false, persistedDocuments: { hashAlgorithm: "sha256" } },
    },
  },
};

export default config;
