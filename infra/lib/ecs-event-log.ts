import { ArnFormat, Stack } from 'aws-cdk-lib';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

export interface EcsEventLogProps {
  readonly cluster: ecs.ICluster;
  readonly service: ecs.IBaseService;
  readonly retention: logs.RetentionDays;
}

/**
 * Records ECS task, service and deployment events of one cluster in a log group, so stopped-task
 * reasons, placement failures and circuit-breaker rollbacks stay searchable after ECS forgets them.
 */
export class EcsEventLog extends Construct {
  public readonly logGroup: logs.LogGroup;
  public readonly clusterEventsRule: events.Rule;
  public readonly deploymentEventsRule: events.Rule;

  constructor(scope: Construct, id: string, props: EcsEventLogProps) {
    super(scope, id);

    // Destination of the events, with bounded retention.
    this.logGroup = new logs.LogGroup(this, 'EcsEvents', { retention: props.retention });

    // Lets EventBridge write to this log group only. A plain resource policy avoids the Lambda-backed custom
    // resource of targets.CloudWatchLogGroup (note: CloudWatch Logs allows 10 resource policies per region).
    const writePolicy = new logs.ResourcePolicy(this, 'EventsCanWrite', {
      policyStatements: [
        new iam.PolicyStatement({
          effect: iam.Effect.ALLOW,
          principals: [new iam.ServicePrincipal('events.amazonaws.com'), new iam.ServicePrincipal('delivery.logs.amazonaws.com')],
          actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          resources: [this.logGroup.logGroupArn],
        }),
      ],
    });
    // Rule targets take the log group ARN without the trailing ':*' that logGroupArn carries.
    const logGroupTargetArn = Stack.of(this).formatArn({
      service: 'logs',
      resource: 'log-group',
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      resourceName: this.logGroup.logGroupName,
    });
    const target: events.IRuleTarget = { bind: () => ({ arn: logGroupTargetArn }) };

    // Task state changes and service actions carry detail.clusterArn: match this cluster only.
    this.clusterEventsRule = new events.Rule(this, 'ClusterEvents', {
      description: 'ECS task and service events of the churn gateway cluster',
      eventPattern: {
        source: ['aws.ecs'],
        detailType: ['ECS Task State Change', 'ECS Service Action'],
        detail: { clusterArn: [props.cluster.clusterArn] },
      },
      targets: [target],
    });
    this.clusterEventsRule.node.addDependency(writePolicy);

    // Deployment events carry no clusterArn; match them by the service ARN in resources.
    this.deploymentEventsRule = new events.Rule(this, 'DeploymentEvents', {
      description: 'ECS deployment events of the churn gateway service',
      eventPattern: {
        source: ['aws.ecs'],
        detailType: ['ECS Deployment State Change'],
        resources: [props.service.serviceArn],
      },
      targets: [target],
    });
    this.deploymentEventsRule.node.addDependency(writePolicy);
  }
}
