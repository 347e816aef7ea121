/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';
/** An internet add-on (security, backup, protection, support, streaming); NO_INTERNET_SERVICE when there is no internet service. */
export type AddOn =
  /** Data set value "No". */
  | 'NO'
  /** Data set value "No internet service". */
  | 'NO_INTERNET_SERVICE'
  /** Data set value "Yes". */
  | 'YES';

/** Contract term. */
export type Contract =
  /** Data set value "Month-to-month". */
  | 'MONTH_TO_MONTH'
  /** Data set value "One year". */
  | 'ONE_YEAR'
  /** Data set value "Two year". */
  | 'TWO_YEAR';

/**
 * One customer, with the data set's columns in camelCase. Rules beyond the types (BAD_USER_INPUT, naming each field that breaks one):
 * - tenure 0–1200;
 * - charges finite, ≥ 0 and at most 3.4e+38;
 * - totalCharges must be sent, although its type lets it be left out: null (not yet billed) only when tenure is 0;
 * - multipleLines is NO_PHONE_SERVICE exactly when phoneService is false;
 * - every add-on is NO_INTERNET_SERVICE exactly when internetService is NO;
 * - customerId at most 256 characters, and well-formed Unicode (no lone UTF-16 surrogate).
 */
export type CustomerInput = {
  /** Contract term. */
  contract: Contract;
  /** Caller's customer id, echoed back in the prediction; not a model feature, and not checked for uniqueness (two rows of a predictBatch may carry the same id, or none: match results to rows by position, the input order). At most 256 characters, counted as Unicode code points, and well-formed: half of a UTF-16 surrogate pair without the other half (JSON's "\ud83d" alone) names no character, and echoed it would make the answer unreadable to strict JSON readers (BAD_USER_INPUT for either); a variable string over 1,024 characters is refused before GraphQL runs, as application/problem+json (see Mutation). */
  customerId?: string | null | undefined;
  /** Whether the customer has dependents. */
  dependents: boolean;
  /** Device protection add-on. */
  deviceProtection: AddOn;
  /** Customer gender. */
  gender: Gender;
  /** Internet service type. */
  internetService: InternetService;
  /** Current monthly charge; finite, ≥ 0 and at most 3.4e+38. */
  monthlyCharges: number;
  /** Multiple phone lines; NO_PHONE_SERVICE exactly when phoneService is false. */
  multipleLines: MultipleLines;
  /** Online backup add-on. */
  onlineBackup: AddOn;
  /** Online security add-on. */
  onlineSecurity: AddOn;
  /** Whether billing is paperless. */
  paperlessBilling: boolean;
  /** Whether the customer has a partner. */
  partner: boolean;
  /** Payment method. */
  paymentMethod: PaymentMethod;
  /** Whether the customer has phone service. */
  phoneService: boolean;
  /** Whether the customer is 65 or older. */
  seniorCitizen: boolean;
  /** Streaming movies add-on. */
  streamingMovies: AddOn;
  /** Streaming TV add-on. */
  streamingTV: AddOn;
  /** Tech support add-on. */
  techSupport: AddOn;
  /** Months with the company, 0 to 1200. */
  tenure: number;
  /** Required, although nullable: send null explicitly, leaving it out is refused. Total billed so far; finite, ≥ 0 and at most 3.4e+38, or null when not yet billed, which only a tenure-0 customer is. */
  totalCharges?: number | null | undefined;
};

/** How one model input is computed from the columns. */
export type FeatureTransform =
  /** The column itself (nullAs replaces a null). */
  | 'IDENTITY'
  /** 1 when the column equals value, else 0. */
  | 'ONEHOT'
  /** numerator / denominator (zeroDenominatorAs when the denominator is 0, nullAs when the numerator is null). */
  | 'RATIO';

/** Customer gender, as recorded in the data set. */
export type Gender =
  /** Data set value "Female". */
  | 'FEMALE'
  /** Data set value "Male". */
  | 'MALE';

/** Internet service type; NO means no internet service. */
export type InternetService =
  /** Data set value "DSL". */
  | 'DSL'
  /** Data set value "Fiber optic". */
  | 'FIBER_OPTIC'
  /** Data set value "No". */
  | 'NO';

/** Where the serving model was loaded from. */
export type ModelSource =
  /** The model bundle packaged with the gateway (MODEL_DIR). */
  | 'BUNDLE'
  /** An MLflow registry or run (MLFLOW_TRACKING_URI + MODEL_URI). */
  | 'MLFLOW';

/** Whether the customer has several phone lines; NO_PHONE_SERVICE when there is no phone service. */
export type MultipleLines =
  /** Data set value "No". */
  | 'NO'
  /** Data set value "No phone service". */
  | 'NO_PHONE_SERVICE'
  /** Data set value "Yes". */
  | 'YES';

/** How the customer pays. */
export type PaymentMethod =
  /** Data set value "Bank transfer (automatic)". */
  | 'BANK_TRANSFER_AUTOMATIC'
  /** Data set value "Credit card (automatic)". */
  | 'CREDIT_CARD_AUTOMATIC'
  /** Data set value "Electronic check". */
  | 'ELECTRONIC_CHECK'
  /** Data set value "Mailed check". */
  | 'MAILED_CHECK';

/** Risk band of a churn probability p, from the model bundle's riskBands (see ModelInfo.riskBands): LOW when p < mediumFrom; MEDIUM when mediumFrom ≤ p < threshold; HIGH when p ≥ threshold (exactly when willChurn is true). */
export type RiskLevel =
  /** p ≥ threshold: the model predicts churn. */
  | 'HIGH'
  /** p < riskBands.mediumFrom. */
  | 'LOW'
  /** riskBands.mediumFrom ≤ p < threshold. */
  | 'MEDIUM';

export type GroupMeasureFieldsFragment = { customers: number, churners: number, meanProbability: number | null, meanProbabilityMinusChurnRate: number | null, churnRate: { value: number | null, low: number | null, high: number | null }, flagged: { value: number | null, low: number | null, high: number | null }, recall: { value: number | null, low: number | null, high: number | null }, falsePositiveRate: { value: number | null, low: number | null, high: number | null }, precision: { value: number | null, low: number | null, high: number | null }, rocAuc: { value: number | null, low: number | null, high: number | null } };

export type GroupReportQueryVariables = Exact<{ [key: string]: never; }>;


export type GroupReportQuery = { modelInfo: { modelVersion: string, runId: string, onnxSha256: string, threshold: number, groupReport: { runId: string, fileSha256: string, overall: { customers: number, churners: number, meanProbability: number | null, meanProbabilityMinusChurnRate: number | null, churnRate: { value: number | null, low: number | null, high: number | null }, flagged: { value: number | null, low: number | null, high: number | null }, recall: { value: number | null, low: number | null, high: number | null }, falsePositiveRate: { value: number | null, low: number | null, high: number | null }, precision: { value: number | null, low: number | null, high: number | null }, rocAuc: { value: number | null, low: number | null, high: number | null } }, groups: Array<{ column: string, value: string, measures: { customers: number, churners: number, meanProbability: number | null, meanProbabilityMinusChurnRate: number | null, churnRate: { value: number | null, low: number | null, high: number | null }, flagged: { value: number | null, low: number | null, high: number | null }, recall: { value: number | null, low: number | null, high: number | null }, falsePositiveRate: { value: number | null, low: number | null, high: number | null }, precision: { value: number | null, low: number | null, high: number | null }, rocAuc: { value: number | null, low: number | null, high: number | null } }, counterfactual: { customers: number, newlyFlagged: number, noLongerFlagged: number, meanChange: number, maxAbsChange: number } | null }>, differences: Array<{ column: string, first: string, second: string, meanProbabilityMinusChurnRate: number | null, flagged: { value: number | null, low: number | null, high: number | null }, recall: { value: number | null, low: number | null, high: number | null }, falsePositiveRate: { value: number | null, low: number | null, high: number | null }, precision: { value: number | null, low: number | null, high: number | null } }> } | null } };

export type ModelInfoQueryVariables = Exact<{ [key: string]: never; }>;


export type ModelInfoQuery = { modelInfo: { name: string, version: string | null, alias: string | null, modelVersion: string, runId: string, experimentId: string, experimentName: string, source: ModelSource, notice: string | null, trainedAt: string, loadedAt: string, onnxSha256: string, datasetSha256: string | null, gitCommit: string | null, threshold: number, thresholdRule: string, bundleFormatVersion: number, riskBands: { mediumFrom: number, highFrom: number }, params: Array<{ key: string, value: string }>, metrics: Array<{ key: string, value: number }>, features: Array<{ name: string, kind: string, allowedValues: Array<string> | null, nullable: boolean, observedMin: number | null, observedMax: number | null }>, encodedFeatures: Array<{ name: string, transform: FeatureTransform, column: string | null, value: string | null, numerator: string | null, denominator: string | null, nullAs: number | null, zeroDenominatorAs: number | null }>, libraryVersions: Array<{ name: string, version: string }>, onnx: { sha256: string, opset: number | null, inputName: string, outputName: string, positiveClassIndex: number }, parity: { cases: number, tolerance: number, maxAbsDiff: number, fileSha256: string } } };

export type ModelNoticeQueryVariables = Exact<{ [key: string]: never; }>;


export type ModelNoticeQuery = { modelInfo: { modelVersion: string, version: string | null, source: ModelSource, notice: string | null, noticeDetail: string | null } };

export type PredictBatchMutationVariables = Exact<{
  customers: Array<CustomerInput> | CustomerInput;
}>;


export type PredictBatchMutation = { predictBatch: Array<{ modelRunId: string, customerId: string | null, churnProbability: number, willChurn: boolean, riskLevel: RiskLevel, threshold: number, modelVersion: string }> };

export type PredictMutationVariables = Exact<{
  customer: CustomerInput;
}>;


export type PredictMutation = { predict: { modelRunId: string, customerId: string | null, churnProbability: number, willChurn: boolean, riskLevel: RiskLevel, threshold: number, modelVersion: string, outsideTrainingRange: Array<{ field: string, value: number, observedMin: number, observedMax: number }>, explanation: { baseLogOdds: number, logOdds: number, drivers: Array<{ name: string, fields: Array<string>, contribution: number }> } | null } };

export type PredictionFieldsFragment = { customerId: string | null, churnProbability: number, willChurn: boolean, riskLevel: RiskLevel, threshold: number, modelVersion: string };

export type ReloadModelMutationVariables = Exact<{ [key: string]: never; }>;


export type ReloadModelMutation = { reloadModel: { changed: boolean, message: string, model: { modelVersion: string, version: string | null, alias: string | null, runId: string, source: ModelSource } } };

export type RetentionOffersMutationVariables = Exact<{
  customers: Array<CustomerInput> | CustomerInput;
}>;


export type RetentionOffersMutation = { predictBatch: Array<{ churnProbability: number, willChurn: boolean, modelVersion: string, modelRunId: string }> };

export type ScoreFileMutationVariables = Exact<{
  customers: Array<CustomerInput> | CustomerInput;
}>;


export type ScoreFileMutation = { predictBatch: Array<{ modelRunId: string, customerId: string | null, churnProbability: number, willChurn: boolean, riskLevel: RiskLevel, threshold: number, modelVersion: string, explanation: { drivers: Array<{ name: string, fields: Array<string>, contribution: number }> } | null }> };

export const GroupMeasureFieldsFragmentDoc = {"kind":"Document","definitions":[{"kind":"FragmentDefinition","name":{"kind":"Name","value":"GroupMeasureFields"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"GroupMeasures"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"customers"}},{"kind":"Field","name":{"kind":"Name","value":"churners"}},{"kind":"Field","name":{"kind":"Name","value":"churnRate"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"value"}},{"kind":"Field","name":{"kind":"Name","value":"low"}},{"kind":"Field","name":{"kind":"Name","value":"high"}}]}},{"kind":"Field","name":{"kind":"Name","value":"meanProbability"}},{"kind":"Field","name":{"kind":"Name","value":"meanProbabilityMinusChurnRate"}},{"kind":"Field","name":{"kind":"Name","value":"flagged"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"value"}},{"kind":"Field","name":{"kind":"Name","value":"low"}},{"kind":"Field","name":{"kind":"Name","value":"high"}}]}},{"kind":"Field","name":{"kind":"Name","value":"recall"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"value"}},{"kind":"Field","name":{"kind":"Name","value":"low"}},{"kind":"Field","name":{"kind":"Name","value":"high"}}]}},{"kind":"Field","name":{"kind":"Name","value":"falsePositiveRate"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"value"}},{"kind":"Field","name":{"kind":"Name","value":"low"}},{"kind":"Field","name":{"kind":"Name","value":"high"}}]}},{"kind":"Field","name":{"kind":"Name","value":"precision"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"value"}},{"kind":"Field","name":{"kind":"Name","value":"low"}},{"kind":"Field","name":{"kind":"Name","value":"high"}}]}},{"kind":"Field","name":{"kind":"Name","value":"rocAuc"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"value"}},{"kind":"Field","name":{"kind":"Name","value":"low"}},{"kind":"Field","name":{"kind":"Name","value":"high"}}]}}]}}]} as unknown as DocumentNode<GroupMeasureFieldsFragment, unknown>;
export const PredictionFieldsFragmentDoc = {"kind":"Document","definitions":[{"kind":"FragmentDefinition","name":{"kind":"Name","value":"PredictionFields"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Prediction"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"customerId"}},{"kind":"Field","name":{"kind":"Name","value":"churnProbability"}},{"kind":"Field","name":{"kind":"Name","value":"willChurn"}},{"kind":"Field","name":{"kind":"Name","value":"riskLevel"}},{"kind":"Field","name":{"kind":"Name","value":"threshold"}},{"kind":"Field","name":{"kind":"Name","value":"modelVersion"}}]}}]} as unknown as DocumentNode<PredictionFieldsFragment, unknown>;
export const GroupReportDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"GroupReport"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"modelInfo"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"modelVersion"}},{"kind":"Field","name":{"kind":"Name","value":"runId"}},{"kind":"Field","name":{"kind":"Name","value":"onnxSha256"}},{"kind":"Field","name":{"kind":"Name","value":"threshold"}},{"kind":"Field","name":{"kind":"Name","value":"groupReport"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"runId"}},{"kind":"Field","name":{"kind":"Name","value":"fileSha256"}},{"kind":"Field","name":{"kind":"Name","value":"overall"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"GroupMeasureFields"}}]}},{"kind":"Field","name":{"kind":"Name","value":"groups"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"column"}},{"kind":"Field","name":{"kind":"Name","value":"value"}},{"kind":"Field","name":{"kind":"Name","value":"measures"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"GroupMeasureFields"}}]}},{"kind":"Field","name":{"kind":"Name","value":"counterfactual"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"customers"}},{"kind":"Field","name":{"kind":"Name","value":"newlyFlagged"}},{"kind":"Field","name":{"kind":"Name","value":"noLongerFlagged"}},{"kind":"Field","name":{"kind":"Name","value":"meanChange"}},{"kind":"Field","name":{"kind":"Name","value":"maxAbsChange"}}]}}]}},{"kind":"Field","name":{"kind":"Name","value":"differences"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"column"}},{"kind":"Field","name":{"kind":"Name","value":"first"}},{"kind":"Field","name":{"kind":"Name","value":"second"}},{"kind":"Field","name":{"kind":"Name","value":"flagged"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"value"}},{"kind":"Field","name":{"kind":"Name","value":"low"}},{"kind":"Field","name":{"kind":"Name","value":"high"}}]}},{"kind":"Field","name":{"kind":"Name","value":"recall"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"value"}},{"kind":"Field","name":{"kind":"Name","value":"low"}},{"kind":"Field","name":{"kind":"Name","value":"high"}}]}},{"kind":"Field","name":{"kind":"Name","value":"falsePositiveRate"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"value"}},{"kind":"Field","name":{"kind":"Name","value":"low"}},{"kind":"Field","name":{"kind":"Name","value":"high"}}]}},{"kind":"Field","name":{"kind":"Name","value":"precision"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"value"}},{"kind":"Field","name":{"kind":"Name","value":"low"}},{"kind":"Field","name":{"kind":"Name","value":"high"}}]}},{"kind":"Field","name":{"kind":"Name","value":"meanProbabilityMinusChurnRate"}}]}}]}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"GroupMeasureFields"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"GroupMeasures"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"customers"}},{"kind":"Field","name":{"kind":"Name","value":"churners"}},{"kind":"Field","name":{"kind":"Name","value":"churnRate"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"value"}},{"kind":"Field","name":{"kind":"Name","value":"low"}},{"kind":"Field","name":{"kind":"Name","value":"high"}}]}},{"kind":"Field","name":{"kind":"Name","value":"meanProbability"}},{"kind":"Field","name":{"kind":"Name","value":"meanProbabilityMinusChurnRate"}},{"kind":"Field","name":{"kind":"Name","value":"flagged"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"value"}},{"kind":"Field","name":{"kind":"Name","value":"low"}},{"kind":"Field","name":{"kind":"Name","value":"high"}}]}},{"kind":"Field","name":{"kind":"Name","value":"recall"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"value"}},{"kind":"Field","name":{"kind":"Name","value":"low"}},{"kind":"Field","name":{"kind":"Name","value":"high"}}]}},{"kind":"Field","name":{"kind":"Name","value":"falsePositiveRate"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"value"}},{"kind":"Field","name":{"kind":"Name","value":"low"}},{"kind":"Field","name":{"kind":"Name","value":"high"}}]}},{"kind":"Field","name":{"kind":"Name","value":"precision"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"value"}},{"kind":"Field","name":{"kind":"Name","value":"low"}},{"kind":"Field","name":{"kind":"Name","value":"high"}}]}},{"kind":"Field","name":{"kind":"Name","value":"rocAuc"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"value"}},{"kind":"Field","name":{"kind":"Name","value":"low"}},{"kind":"Field","name":{"kind":"Name","value":"high"}}]}}]}}]} as unknown as DocumentNode<GroupReportQuery, GroupReportQueryVariables>;
export const ModelInfoDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"ModelInfo"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"modelInfo"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"version"}},{"kind":"Field","name":{"kind":"Name","value":"alias"}},{"kind":"Field","name":{"kind":"Name","value":"modelVersion"}},{"kind":"Field","name":{"kind":"Name","value":"runId"}},{"kind":"Field","name":{"kind":"Name","value":"experimentId"}},{"kind":"Field","name":{"kind":"Name","value":"experimentName"}},{"kind":"Field","name":{"kind":"Name","value":"source"}},{"kind":"Field","name":{"kind":"Name","value":"notice"}},{"kind":"Field","name":{"kind":"Name","value":"trainedAt"}},{"kind":"Field","name":{"kind":"Name","value":"loadedAt"}},{"kind":"Field","name":{"kind":"Name","value":"onnxSha256"}},{"kind":"Field","name":{"kind":"Name","value":"datasetSha256"}},{"kind":"Field","name":{"kind":"Name","value":"gitCommit"}},{"kind":"Field","name":{"kind":"Name","value":"threshold"}},{"kind":"Field","name":{"kind":"Name","value":"thresholdRule"}},{"kind":"Field","name":{"kind":"Name","value":"riskBands"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"mediumFrom"}},{"kind":"Field","name":{"kind":"Name","value":"highFrom"}}]}},{"kind":"Field","name":{"kind":"Name","value":"params"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"key"}},{"kind":"Field","name":{"kind":"Name","value":"value"}}]}},{"kind":"Field","name":{"kind":"Name","value":"metrics"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"key"}},{"kind":"Field","name":{"kind":"Name","value":"value"}}]}},{"kind":"Field","name":{"kind":"Name","value":"features"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"kind"}},{"kind":"Field","name":{"kind":"Name","value":"allowedValues"}},{"kind":"Field","name":{"kind":"Name","value":"nullable"}},{"kind":"Field","name":{"kind":"Name","value":"observedMin"}},{"kind":"Field","name":{"kind":"Name","value":"observedMax"}}]}},{"kind":"Field","name":{"kind":"Name","value":"encodedFeatures"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"transform"}},{"kind":"Field","name":{"kind":"Name","value":"column"}},{"kind":"Field","name":{"kind":"Name","value":"value"}},{"kind":"Field","name":{"kind":"Name","value":"numerator"}},{"kind":"Field","name":{"kind":"Name","value":"denominator"}},{"kind":"Field","name":{"kind":"Name","value":"nullAs"}},{"kind":"Field","name":{"kind":"Name","value":"zeroDenominatorAs"}}]}},{"kind":"Field","name":{"kind":"Name","value":"libraryVersions"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"version"}}]}},{"kind":"Field","name":{"kind":"Name","value":"onnx"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"sha256"}},{"kind":"Field","name":{"kind":"Name","value":"opset"}},{"kind":"Field","name":{"kind":"Name","value":"inputName"}},{"kind":"Field","name":{"kind":"Name","value":"outputName"}},{"kind":"Field","name":{"kind":"Name","value":"positiveClassIndex"}}]}},{"kind":"Field","name":{"kind":"Name","value":"parity"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"cases"}},{"kind":"Field","name":{"kind":"Name","value":"tolerance"}},{"kind":"Field","name":{"kind":"Name","value":"maxAbsDiff"}},{"kind":"Field","name":{"kind":"Name","value":"fileSha256"}}]}},{"kind":"Field","name":{"kind":"Name","value":"bundleFormatVersion"}}]}}]}}]} as unknown as DocumentNode<ModelInfoQuery, ModelInfoQueryVariables>;
export const ModelNoticeDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"ModelNotice"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"modelInfo"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"modelVersion"}},{"kind":"Field","name":{"kind":"Name","value":"version"}},{"kind":"Field","name":{"kind":"Name","value":"source"}},{"kind":"Field","name":{"kind":"Name","value":"notice"}},{"kind":"Field","name":{"kind":"Name","value":"noticeDetail"}}]}}]}}]} as unknown as DocumentNode<ModelNoticeQuery, ModelNoticeQueryVariables>;
export const PredictBatchDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"PredictBatch"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"customers"}},"type":{"kind":"NonNullType","type":{"kind":"ListType","type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"CustomerInput"}}}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"predictBatch"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"customers"},"value":{"kind":"Variable","name":{"kind":"Name","value":"customers"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"PredictionFields"}},{"kind":"Field","name":{"kind":"Name","value":"modelRunId"}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"PredictionFields"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Prediction"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"customerId"}},{"kind":"Field","name":{"kind":"Name","value":"churnProbability"}},{"kind":"Field","name":{"kind":"Name","value":"willChurn"}},{"kind":"Field","name":{"kind":"Name","value":"riskLevel"}},{"kind":"Field","name":{"kind":"Name","value":"threshold"}},{"kind":"Field","name":{"kind":"Name","value":"modelVersion"}}]}}]} as unknown as DocumentNode<PredictBatchMutation, PredictBatchMutationVariables>;
export const PredictDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"Predict"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"customer"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"CustomerInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"predict"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"customer"},"value":{"kind":"Variable","name":{"kind":"Name","value":"customer"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"PredictionFields"}},{"kind":"Field","name":{"kind":"Name","value":"modelRunId"}},{"kind":"Field","name":{"kind":"Name","value":"outsideTrainingRange"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"field"}},{"kind":"Field","name":{"kind":"Name","value":"value"}},{"kind":"Field","name":{"kind":"Name","value":"observedMin"}},{"kind":"Field","name":{"kind":"Name","value":"observedMax"}}]}},{"kind":"Field","name":{"kind":"Name","value":"explanation"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"baseLogOdds"}},{"kind":"Field","name":{"kind":"Name","value":"logOdds"}},{"kind":"Field","name":{"kind":"Name","value":"drivers"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"fields"}},{"kind":"Field","name":{"kind":"Name","value":"contribution"}}]}}]}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"PredictionFields"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Prediction"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"customerId"}},{"kind":"Field","name":{"kind":"Name","value":"churnProbability"}},{"kind":"Field","name":{"kind":"Name","value":"willChurn"}},{"kind":"Field","name":{"kind":"Name","value":"riskLevel"}},{"kind":"Field","name":{"kind":"Name","value":"threshold"}},{"kind":"Field","name":{"kind":"Name","value":"modelVersion"}}]}}]} as unknown as DocumentNode<PredictMutation, PredictMutationVariables>;
export const ReloadModelDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"ReloadModel"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"reloadModel"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"changed"}},{"kind":"Field","name":{"kind":"Name","value":"message"}},{"kind":"Field","name":{"kind":"Name","value":"model"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"modelVersion"}},{"kind":"Field","name":{"kind":"Name","value":"version"}},{"kind":"Field","name":{"kind":"Name","value":"alias"}},{"kind":"Field","name":{"kind":"Name","value":"runId"}},{"kind":"Field","name":{"kind":"Name","value":"source"}}]}}]}}]}}]} as unknown as DocumentNode<ReloadModelMutation, ReloadModelMutationVariables>;
export const RetentionOffersDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"RetentionOffers"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"customers"}},"type":{"kind":"NonNullType","type":{"kind":"ListType","type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"CustomerInput"}}}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"predictBatch"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"customers"},"value":{"kind":"Variable","name":{"kind":"Name","value":"customers"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"churnProbability"}},{"kind":"Field","name":{"kind":"Name","value":"willChurn"}},{"kind":"Field","name":{"kind":"Name","value":"modelVersion"}},{"kind":"Field","name":{"kind":"Name","value":"modelRunId"}}]}}]}}]} as unknown as DocumentNode<RetentionOffersMutation, RetentionOffersMutationVariables>;
export const ScoreFileDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"ScoreFile"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"customers"}},"type":{"kind":"NonNullType","type":{"kind":"ListType","type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"CustomerInput"}}}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"predictBatch"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"customers"},"value":{"kind":"Variable","name":{"kind":"Name","value":"customers"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"PredictionFields"}},{"kind":"Field","name":{"kind":"Name","value":"modelRunId"}},{"kind":"Field","name":{"kind":"Name","value":"explanation"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"drivers"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"fields"}},{"kind":"Field","name":{"kind":"Name","value":"contribution"}}]}}]}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"PredictionFields"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Prediction"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"customerId"}},{"kind":"Field","name":{"kind":"Name","value":"churnProbability"}},{"kind":"Field","name":{"kind":"Name","value":"willChurn"}},{"kind":"Field","name":{"kind":"Name","value":"riskLevel"}},{"kind":"Field","name":{"kind":"Name","value":"threshold"}},{"kind":"Field","name":{"kind":"Name","value":"modelVersion"}}]}}]} as unknown as DocumentNode<ScoreFileMutation, ScoreFileMutationVariables>;