/**
 * The customer enums, generated from the contract: GraphQL values on the wire, the data
 * set's values inside the gateway (resolvers receive "Fiber optic", not FIBER_OPTIC).
 */
import { CONTRACT_ENUMS, type ContractEnumName } from '../contract.js';
import type { EnumRef } from '@pothos/core';
import { builder } from './builder.js';

type Types = typeof builder.$inferSchemaTypes;

const DESCRIPTIONS: Record<ContractEnumName, string> = {
  Gender: 'Customer gender, as recorded in the data set.',
  MultipleLines: 'Whether the customer has several phone lines; NO_PHONE_SERVICE when there is no phone service.',
  InternetService: 'Internet service type; NO means no internet service.',
  AddOn: 'An internet add-on (security, backup, protection, support, streaming); NO_INTERNET_SERVICE when there is no internet service.',
  Contract: 'Contract term.',
  PaymentMethod: 'How the customer pays.',
};

function contractEnum(name: ContractEnumName): EnumRef<Types, string, string> {
  const values: Record<string, { value: string; description: string }> = {};
  for (const [gql, value] of Object.entries(CONTRACT_ENUMS[name])) values[gql] = { value, description: `Data set value "${value}".` };
  return builder.enumType(name, { description: DESCRIPTIONS[name], values });
}

export const contractEnums = {
  Gender: contractEnum('Gender'),
  MultipleLines: contractEnum('MultipleLines'),
  InternetService: contractEnum('InternetService'),
  AddOn: contractEnum('AddOn'),
  Contract: contractEnum('Contract'),
  PaymentMethod: contractEnum('PaymentMethod'),
} as const;
