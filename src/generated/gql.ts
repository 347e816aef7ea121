/* eslint-disable */
import * as types from './graphql.js';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "fragment GroupMeasureFields on GroupMeasures {\n  customers\n  churners\n  churnRate {\n    value\n    low\n    high\n  }\n  meanProbability\n  meanProbabilityMinusChurnRate\n  flagged {\n    value\n    low\n    high\n  }\n  recall {\n    value\n    low\n    high\n  }\n  falsePositiveRate {\n    value\n    low\n    high\n  }\n  precision {\n    value\n    low\n    high\n  }\n  rocAuc {\n    value\n    low\n    high\n  }\n}\n\nquery GroupReport {\n  modelInfo {\n    modelVersion\n    runId\n    onnxSha256\n    threshold\n    groupReport {\n      runId\n      fileSha256\n      overall {\n        ...GroupMeasureFields\n      }\n      groups {\n        column\n        value\n        measures {\n          ...GroupMeasureFields\n        }\n        counterfactual {\n          customers\n          newlyFlagged\n          noLongerFlagged\n          meanChange\n          maxAbsChange\n        }\n      }\n      differences {\n        column\n        first\n        second\n        flagged {\n          value\n          low\n          high\n        }\n        recall {\n          value\n          low\n          high\n        }\n        falsePositiveRate {\n          value\n          low\n          high\n        }\n        precision {\n          value\n          low\n          high\n        }\n        meanProbabilityMinusChurnRate\n      }\n    }\n  }\n}": typeof types.GroupMeasureFieldsFragmentDoc,
    "query ModelInfo {\n  modelInfo {\n    name\n    version\n    alias\n    modelVersion\n    runId\n    experimentId\n    experimentName\n    source\n    notice\n    trainedAt\n    loadedAt\n    onnxSha256\n    datasetSha256\n    gitCommit\n    threshold\n    thresholdRule\n    riskBands {\n      mediumFrom\n      highFrom\n    }\n    params {\n      key\n      value\n    }\n    metrics {\n      key\n      value\n    }\n    features {\n      name\n      kind\n      allowedValues\n      nullable\n      observedMin\n      observedMax\n    }\n    encodedFeatures {\n      name\n      transform\n      column\n      value\n      numerator\n      denominator\n      nullAs\n      zeroDenominatorAs\n    }\n    libraryVersions {\n      name\n      version\n    }\n    onnx {\n      sha256\n      opset\n      inputName\n      outputName\n      positiveClassIndex\n    }\n    parity {\n      cases\n      tolerance\n      maxAbsDiff\n      fileSha256\n    }\n    bundleFormatVersion\n  }\n}": typeof types.ModelInfoDocument,
    "query ModelNotice {\n  modelInfo {\n    modelVersion\n    version\n    source\n    notice\n    noticeDetail\n  }\n}": typeof types.ModelNoticeDocument,
    "mutation PredictBatch($customers: [CustomerInput!]!) {\n  predictBatch(customers: $customers) {\n    ...PredictionFields\n    modelRunId\n  }\n}": typeof types.PredictBatchDocument,
    "mutation Predict($customer: CustomerInput!) {\n  predict(customer: $customer) {\n    ...PredictionFields\n    modelRunId\n    outsideTrainingRange {\n      field\n      value\n      observedMin\n      observedMax\n    }\n    explanation {\n      baseLogOdds\n      logOdds\n      drivers {\n        name\n        fields\n        contribution\n      }\n    }\n  }\n}": typeof types.PredictDocument,
    "fragment PredictionFields on Prediction {\n  customerId\n  churnProbability\n  willChurn\n  riskLevel\n  threshold\n  modelVersion\n}": typeof types.PredictionFieldsFragmentDoc,
    "mutation ReloadModel {\n  reloadModel {\n    changed\n    message\n    model {\n      modelVersion\n      version\n      alias\n      runId\n      source\n    }\n  }\n}": typeof types.ReloadModelDocument,
    "mutation RetentionOffers($customers: [CustomerInput!]!) {\n  predictBatch(customers: $customers) {\n    churnProbability\n    willChurn\n    modelVersion\n    modelRunId\n  }\n}": typeof types.RetentionOffersDocument,
    "mutation ScoreFile($customers: [CustomerInput!]!) {\n  predictBatch(customers: $customers) {\n    ...PredictionFields\n    modelRunId\n    explanation {\n      drivers {\n        name\n        fields\n        contribution\n      }\n    }\n  }\n}": typeof types.ScoreFileDocument,
};
const documents: Documents = {
    "fragment GroupMeasureFields on GroupMeasures {\n  customers\n  churners\n  churnRate {\n    value\n    low\n    high\n  }\n  meanProbability\n  meanProbabilityMinusChurnRate\n  flagged {\n    value\n    low\n    high\n  }\n  recall {\n    value\n    low\n    high\n  }\n  falsePositiveRate {\n    value\n    low\n    high\n  }\n  precision {\n    value\n    low\n    high\n  }\n  rocAuc {\n    value\n    low\n    high\n  }\n}\n\nquery GroupReport {\n  modelInfo {\n    modelVersion\n    runId\n    onnxSha256\n    threshold\n    groupReport {\n      runId\n      fileSha256\n      overall {\n        ...GroupMeasureFields\n      }\n      groups {\n        column\n        value\n        measures {\n          ...GroupMeasureFields\n        }\n        counterfactual {\n          customers\n          newlyFlagged\n          noLongerFlagged\n          meanChange\n          maxAbsChange\n        }\n      }\n      differences {\n        column\n        first\n        second\n        flagged {\n          value\n          low\n          high\n        }\n        recall {\n          value\n          low\n          high\n        }\n        falsePositiveRate {\n          value\n          low\n          high\n        }\n        precision {\n          value\n          low\n          high\n        }\n        meanProbabilityMinusChurnRate\n      }\n    }\n  }\n}": types.GroupMeasureFieldsFragmentDoc,
    "query ModelInfo {\n  modelInfo {\n    name\n    version\n    alias\n    modelVersion\n    runId\n    experimentId\n    experimentName\n    source\n    notice\n    trainedAt\n    loadedAt\n    onnxSha256\n    datasetSha256\n    gitCommit\n    threshold\n    thresholdRule\n    riskBands {\n      mediumFrom\n      highFrom\n    }\n    params {\n      key\n      value\n    }\n    metrics {\n      key\n      value\n    }\n    features {\n      name\n      kind\n      allowedValues\n      nullable\n      observedMin\n      observedMax\n    }\n    encodedFeatures {\n      name\n      transform\n      column\n      value\n      numerator\n      denominator\n      nullAs\n      zeroDenominatorAs\n    }\n    libraryVersions {\n      name\n      version\n    }\n    onnx {\n      sha256\n      opset\n      inputName\n      outputName\n      positiveClassIndex\n    }\n    parity {\n      cases\n      tolerance\n      maxAbsDiff\n      fileSha256\n    }\n    bundleFormatVersion\n  }\n}": types.ModelInfoDocument,
    "query ModelNotice {\n  modelInfo {\n    modelVersion\n    version\n    source\n    notice\n    noticeDetail\n  }\n}": types.ModelNoticeDocument,
    "mutation PredictBatch($customers: [CustomerInput!]!) {\n  predictBatch(customers: $customers) {\n    ...PredictionFields\n    modelRunId\n  }\n}": types.PredictBatchDocument,
    "mutation Predict($customer: CustomerInput!) {\n  predict(customer: $customer) {\n    ...PredictionFields\n    modelRunId\n    outsideTrainingRange {\n      field\n      value\n      observedMin\n      observedMax\n    }\n    explanation {\n      baseLogOdds\n      logOdds\n      drivers {\n        name\n        fields\n        contribution\n      }\n    }\n  }\n}": types.PredictDocument,
    "fragment PredictionFields on Prediction {\n  customerId\n  churnProbability\n  willChurn\n  riskLevel\n  threshold\n  modelVersion\n}": types.PredictionFieldsFragmentDoc,
    "mutation ReloadModel {\n  reloadModel {\n    changed\n    message\n    model {\n      modelVersion\n      version\n      alias\n      runId\n      source\n    }\n  }\n}": types.ReloadModelDocument,
    "mutation RetentionOffers($customers: [CustomerInput!]!) {\n  predictBatch(customers: $customers) {\n    churnProbability\n    willChurn\n    modelVersion\n    modelRunId\n  }\n}": types.RetentionOffersDocument,
    "mutation ScoreFile($customers: [CustomerInput!]!) {\n  predictBatch(customers: $customers) {\n    ...PredictionFields\n    modelRunId\n    explanation {\n      drivers {\n        name\n        fields\n        contribution\n      }\n    }\n  }\n}": types.ScoreFileDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "fragment GroupMeasureFields on GroupMeasures {\n  customers\n  churners\n  churnRate {\n    value\n    low\n    high\n  }\n  meanProbability\n  meanProbabilityMinusChurnRate\n  flagged {\n    value\n    low\n    high\n  }\n  recall {\n    value\n    low\n    high\n  }\n  falsePositiveRate {\n    value\n    low\n    high\n  }\n  precision {\n    value\n    low\n    high\n  }\n  rocAuc {\n    value\n    low\n    high\n  }\n}\n\nquery GroupReport {\n  modelInfo {\n    modelVersion\n    runId\n    onnxSha256\n    threshold\n    groupReport {\n      runId\n      fileSha256\n      overall {\n        ...GroupMeasureFields\n      }\n      groups {\n        column\n        value\n        measures {\n          ...GroupMeasureFields\n        }\n        counterfactual {\n          customers\n          newlyFlagged\n          noLongerFlagged\n          meanChange\n          maxAbsChange\n        }\n      }\n      differences {\n        column\n        first\n        second\n        flagged {\n          value\n          low\n          high\n        }\n        recall {\n          value\n          low\n          high\n        }\n        falsePositiveRate {\n          value\n          low\n          high\n        }\n        precision {\n          value\n          low\n          high\n        }\n        meanProbabilityMinusChurnRate\n      }\n    }\n  }\n}"): (typeof documents)["fragment GroupMeasureFields on GroupMeasures {\n  customers\n  churners\n  churnRate {\n    value\n    low\n    high\n  }\n  meanProbability\n  meanProbabilityMinusChurnRate\n  flagged {\n    value\n    low\n    high\n  }\n  recall {\n    value\n    low\n    high\n  }\n  falsePositiveRate {\n    value\n    low\n    high\n  }\n  precision {\n    value\n    low\n    high\n  }\n  rocAuc {\n    value\n    low\n    high\n  }\n}\n\nquery GroupReport {\n  modelInfo {\n    modelVersion\n    runId\n    onnxSha256\n    threshold\n    groupReport {\n      runId\n      fileSha256\n      overall {\n        ...GroupMeasureFields\n      }\n      groups {\n        column\n        value\n        measures {\n          ...GroupMeasureFields\n        }\n        counterfactual {\n          customers\n          newlyFlagged\n          noLongerFlagged\n          meanChange\n          maxAbsChange\n        }\n      }\n      differences {\n        column\n        first\n        second\n        flagged {\n          value\n          low\n          high\n        }\n        recall {\n          value\n          low\n          high\n        }\n        falsePositiveRate {\n          value\n          low\n          high\n        }\n        precision {\n          value\n          low\n          high\n        }\n        meanProbabilityMinusChurnRate\n      }\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query ModelInfo {\n  modelInfo {\n    name\n    version\n    alias\n    modelVersion\n    runId\n    experimentId\n    experimentName\n    source\n    notice\n    trainedAt\n    loadedAt\n    onnxSha256\n    datasetSha256\n    gitCommit\n    threshold\n    thresholdRule\n    riskBands {\n      mediumFrom\n      highFrom\n    }\n    params {\n      key\n      value\n    }\n    metrics {\n      key\n      value\n    }\n    features {\n      name\n      kind\n      allowedValues\n      nullable\n      observedMin\n      observedMax\n    }\n    encodedFeatures {\n      name\n      transform\n      column\n      value\n      numerator\n      denominator\n      nullAs\n      zeroDenominatorAs\n    }\n    libraryVersions {\n      name\n      version\n    }\n    onnx {\n      sha256\n      opset\n      inputName\n      outputName\n      positiveClassIndex\n    }\n    parity {\n      cases\n      tolerance\n      maxAbsDiff\n      fileSha256\n    }\n    bundleFormatVersion\n  }\n}"): (typeof documents)["query ModelInfo {\n  modelInfo {\n    name\n    version\n    alias\n    modelVersion\n    runId\n    experimentId\n    experimentName\n    source\n    notice\n    trainedAt\n    loadedAt\n    onnxSha256\n    datasetSha256\n    gitCommit\n    threshold\n    thresholdRule\n    riskBands {\n      mediumFrom\n      highFrom\n    }\n    params {\n      key\n      value\n    }\n    metrics {\n      key\n      value\n    }\n    features {\n      name\n      kind\n      allowedValues\n      nullable\n      observedMin\n      observedMax\n    }\n    encodedFeatures {\n      name\n      transform\n      column\n      value\n      numerator\n      denominator\n      nullAs\n      zeroDenominatorAs\n    }\n    libraryVersions {\n      name\n      version\n    }\n    onnx {\n      sha256\n      opset\n      inputName\n      outputName\n      positiveClassIndex\n    }\n    parity {\n      cases\n      tolerance\n      maxAbsDiff\n      fileSha256\n    }\n    bundleFormatVersion\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query ModelNotice {\n  modelInfo {\n    modelVersion\n    version\n    source\n    notice\n    noticeDetail\n  }\n}"): (typeof documents)["query ModelNotice {\n  modelInfo {\n    modelVersion\n    version\n    source\n    notice\n    noticeDetail\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation PredictBatch($customers: [CustomerInput!]!) {\n  predictBatch(customers: $customers) {\n    ...PredictionFields\n    modelRunId\n  }\n}"): (typeof documents)["mutation PredictBatch($customers: [CustomerInput!]!) {\n  predictBatch(customers: $customers) {\n    ...PredictionFields\n    modelRunId\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation Predict($customer: CustomerInput!) {\n  predict(customer: $customer) {\n    ...PredictionFields\n    modelRunId\n    outsideTrainingRange {\n      field\n      value\n      observedMin\n      observedMax\n    }\n    explanation {\n      baseLogOdds\n      logOdds\n      drivers {\n        name\n        fields\n        contribution\n      }\n    }\n  }\n}"): (typeof documents)["mutation Predict($customer: CustomerInput!) {\n  predict(customer: $customer) {\n    ...PredictionFields\n    modelRunId\n    outsideTrainingRange {\n      field\n      value\n      observedMin\n      observedMax\n    }\n    explanation {\n      baseLogOdds\n      logOdds\n      drivers {\n        name\n        fields\n        contribution\n      }\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "fragment PredictionFields on Prediction {\n  customerId\n  churnProbability\n  willChurn\n  riskLevel\n  threshold\n  modelVersion\n}"): (typeof documents)["fragment PredictionFields on Prediction {\n  customerId\n  churnProbability\n  willChurn\n  riskLevel\n  threshold\n  modelVersion\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation ReloadModel {\n  reloadModel {\n    changed\n    message\n    model {\n      modelVersion\n      version\n      alias\n      runId\n      source\n    }\n  }\n}"): (typeof documents)["mutation ReloadModel {\n  reloadModel {\n    changed\n    message\n    model {\n      modelVersion\n      version\n      alias\n      runId\n      source\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation RetentionOffers($customers: [CustomerInput!]!) {\n  predictBatch(customers: $customers) {\n    churnProbability\n    willChurn\n    modelVersion\n    modelRunId\n  }\n}"): (typeof documents)["mutation RetentionOffers($customers: [CustomerInput!]!) {\n  predictBatch(customers: $customers) {\n    churnProbability\n    willChurn\n    modelVersion\n    modelRunId\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation ScoreFile($customers: [CustomerInput!]!) {\n  predictBatch(customers: $customers) {\n    ...PredictionFields\n    modelRunId\n    explanation {\n      drivers {\n        name\n        fields\n        contribution\n      }\n    }\n  }\n}"): (typeof documents)["mutation ScoreFile($customers: [CustomerInput!]!) {\n  predictBatch(customers: $customers) {\n    ...PredictionFields\n    modelRunId\n    explanation {\n      drivers {\n        name\n        fields\n        contribution\n      }\n    }\n  }\n}"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;