"""Question banks and interview plans for the scripted interviewer (and the key points the scorer checks).

Each role family has its own technical bank; the behavioral bank (STAR-oriented) is shared. A question
carries key points, each a label plus keywords that a transparent rule-based scorer can look for in an
answer, and follow-ups keyed by the reason for asking them:

- ``detail``: the answer was too short;
- ``example``: no concrete example (a behavioral answer that stayed hypothetical);
- ``result``: no measurable outcome;
- ``ownership``: only "we", never "I";
- ``tradeoff``: no trade-off or alternative discussed;
- ``key:<label>``: probes one key point the answer did not mention.

Texts of the generic bank and of the openers hold ``{role}`` (the role as entered) or ``{a_role}`` (the
role with its article, "an Accountant"); ``build_plan`` and ``find_question(..., role=...)`` fill them in.

``build_plan`` is deterministic: the same interview (seed, role, type, level, duration) always gets the
same plan, which is what lets a stateless interviewer continue after a reconnect.
"""

from __future__ import annotations

import dataclasses
import random
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from itertools import zip_longest
from typing import Literal

from voice_agent.providers.base import InterviewContext

QuestionKind = Literal["technical", "behavioral"]

ALL_LEVELS: frozenset[str] = frozenset({"entry", "mid", "senior"})
#: About one main question per 3.5 minutes, after a minute for the greeting and the closing.
MINUTES_PER_QUESTION = 3.5
MIN_MAIN_QUESTIONS = 2

SOFTWARE_ENGINEER = "software_engineer"
DATA_SCIENTIST = "data_scientist"
PRODUCT_MANAGER = "product_manager"
GENERIC = "generic"


@dataclass(frozen=True, slots=True)
class KeyPoint:
    """Something a good answer covers, recognised by any of its keywords (see ``mentions``)."""

    label: str
    keywords: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Question:
    """One main question of a plan, with what a good answer covers and the follow-ups it may need."""

    id: str
    kind: QuestionKind
    text: str
    key_points: tuple[KeyPoint, ...]
    follow_ups: dict[str, str] = field(compare=False)
    levels: frozenset[str]


# --------------------------------------------------------------------------------------------------------
# Building blocks

_DEFAULT_FOLLOW_UPS: dict[QuestionKind, dict[str, str]] = {
    "technical": {
        "detail": "Could you go a little deeper on that? Walk me through how you would actually approach it.",
        "example": "Can you give me a concrete example of when you did this in practice?",
        "result": "How would you know it worked? What would you measure?",
        "ownership": "Which part of that did you handle yourself?",
        "tradeoff": "What are the downsides of that approach, and what alternative would you consider?",
    },
    "behavioral": {
        "detail": "Could you tell me a bit more? Walk me through the situation and what you did.",
        "example": "Can you think of a specific time this actually happened? Tell me about that one.",
        "result": "How did it turn out? Is there a number or a concrete outcome you can point to?",
        "ownership": "You described what the team did. What was your own part in it?",
        "tradeoff": "What other options did you consider at the time, and why did you choose this one?",
    },
}

#: A key point as written in the banks: label, comma-separated keywords, and the follow-up that probes it.
_Point = tuple[str, str, str]


def _split(keywords: str) -> tuple[str, ...]:
    return tuple(keyword.strip() for keyword in keywords.split(",") if keyword.strip())


def _levels(spec: str) -> frozenset[str]:
    return ALL_LEVELS if spec == "all" else frozenset(spec.split())


def _question(
    qid: str, kind: QuestionKind, text: str, levels: str, points: Sequence[_Point], overrides: dict[str, str]
) -> Question:
    follow_ups = dict(_DEFAULT_FOLLOW_UPS[kind])
    follow_ups.update({f"key:{label}": probe for label, _, probe in points})
    follow_ups.update(overrides)
    return Question(
        id=qid,
        kind=kind,
        text=text,
        key_points=tuple(KeyPoint(label, _split(keywords)) for label, keywords, _ in points),
        follow_ups=follow_ups,
        levels=_levels(levels),
    )


def _tech(qid: str, text: str, levels: str, *points: _Point, **overrides: str) -> Question:
    return _question(qid, "technical", text, levels, points, overrides)


# STAR key points shared by every behavioral question; each question adds its own.
_SITUATION: _Point = (
    "situation",
    "project, team, company, job, role, situation, ago, last year, at the time, client",
    "Can you set the scene a little more? Where were you, and what was at stake?",
)
_ACTION: _Point = (
    "action",
    "decided, proposed, talked, organised, organized, built, wrote, set up, asked, suggested, created, led, "
    "scheduled, reached out, explained",
    "What did you do yourself, step by step?",
)
_RESULT: _Point = (
    "result",
    "result, outcome, in the end, eventually, percent, improved, reduced, increased, delivered, shipped, "
    "learned, learnt, resolved",
    "How did it turn out in the end?",
)


def _star(qid: str, text: str, levels: str, *points: _Point, **overrides: str) -> Question:
    return _question(qid, "behavioral", text, levels, (_SITUATION, _ACTION, _RESULT, *points), overrides)


# --------------------------------------------------------------------------------------------------------
# Openers: an easy first question, fitted to the interview type

TECHNICAL_OPENER = _tech(
    "opener-project",
    "To warm up, tell me about a recent project from your work as {a_role}, and the part you were "
    "personally responsible for.",
    "all",
    (
        "project",
        "project, product, system, feature, built, worked on, launched",
        "What was the project for, and who used it?",
    ),
    (
        "responsibility",
        "i built, i designed, i wrote, i led, i owned, my part, i was responsible, i handled",
        "Which part of it was yours specifically?",
    ),
    (
        "tools",
        "tool, technology, technologies, stack, language, framework, method, using, software",
        "Which tools or methods did you use, and why those?",
    ),
    detail="Could you tell me a little more about that project? What was the goal, and what did you do?",
    tradeoff="Looking back, what would you do differently on that project, and why?",
)

BACKGROUND_OPENER = _question(
    "opener-background",
    "behavioral",
    "To start, could you walk me through your background and what brings you to this {role} role?",
    "all",
    (
        (
            "background",
            "studied, degree, worked, working, experience, years, university, career",
            "What have you been working on most recently?",
        ),
        (
            "motivation",
            "interest, excite, enjoy, because, looking for, motivat, passion, love, why",
            "What draws you to this kind of role?",
        ),
        ("strengths", "skill, strength, good at, bring, fit, expertise", "What strengths would you bring to the team?"),
    ),
    {
        "detail": "Could you tell me a little more? For example, what you have been working on most recently.",
        "example": "Could you tell me about one piece of work from that time that you are proud of?",
        "result": "What is an achievement from that experience you are most proud of, and what difference did it make?",
        "ownership": "And what did you personally contribute in those roles?",
        "tradeoff": "What made you choose this path over the alternatives you had?",
    },
)

OPENERS: tuple[Question, ...] = (TECHNICAL_OPENER, BACKGROUND_OPENER)


# --------------------------------------------------------------------------------------------------------
# Software engineer (also backend, frontend, full stack, DevOps, SRE, mobile, developer, programmer)

SOFTWARE_ENGINEER_QUESTIONS: tuple[Question, ...] = (
    _tech(
        "swe-rest-api",
        "How would you design a REST API for a simple to-do list application? Walk me through the endpoints "
        "and the data model.",
        "entry mid",
        (
            "endpoints",
            "endpoint, route, url, resource, get request, post request, crud, http, verb, delete",
            "Which endpoints would you expose, and which HTTP methods would they use?",
        ),
        (
            "data model",
            "table, schema, model, database, field, column, primary key, id",
            "How would you store the to-do items? What does the data model look like?",
        ),
        (
            "errors",
            "status code, 404, 400, error, validation, validate, invalid",
            "What happens when a client sends invalid data or asks for an item that does not exist?",
        ),
        (
            "authentication",
            "auth, authentication, token, login, permission, session, user id, jwt",
            "How would you make sure users only see their own to-do items?",
        ),
    ),
    _tech(
        "swe-debug-production",
        "Tell me how you would debug a problem that only shows up in production and that you cannot "
        "reproduce on your own machine.",
        "all",
        (
            "observability",
            "logs, logging, metric, trace, tracing, monitoring, dashboard, alert, sentry",
            "What information would you look at first, and where would it come from?",
        ),
        (
            "reproduce",
            "reproduce, staging, replicate, same data, production data, environment",
            "How would you try to reproduce it outside production?",
        ),
        (
            "narrowing down",
            "bisect, hypothesis, isolate, narrow, diff, recent deploy, recent change, compare",
            "How would you narrow down which change or component is responsible?",
        ),
        (
            "mitigation",
            "rollback, roll back, feature flag, hotfix, revert, mitigate, workaround",
            "While you are still investigating, how would you limit the impact on users?",
        ),
    ),
    _tech(
        "swe-url-shortener",
        "How would you design a URL shortening service like bit.ly that handles millions of requests a day?",
        "mid senior",
        (
            "scalability",
            "scale, scaling, load balancer, shard, horizontal, replica, partition, stateless",
            "How would the design scale as traffic grows ten times?",
        ),
        (
            "caching",
            "cache, caching, redis, memcached, cdn, hot keys",
            "Most traffic is reads of popular links. How would you serve those quickly?",
        ),
        (
            "storage",
            "database, key value, key-value, nosql, sql, dynamodb, cassandra, postgres",
            "Where would you store the mapping from short codes to URLs, and why that store?",
        ),
        (
            "id generation",
            "hash, base62, base 62, collision, unique, counter, random, id generation",
            "How would you generate the short codes so they are unique?",
        ),
    ),
    _tech(
        "swe-sql-vs-nosql",
        "When would you choose a relational database over a NoSQL store, and when the other way around?",
        "all",
        (
            "consistency",
            "acid, transaction, consistency, consistent, integrity, constraint",
            "How do transactions and consistency guarantees factor into the choice?",
        ),
        (
            "schema",
            "schema, flexible, document, json, structured, unstructured",
            "How does the shape of the data, and how often it changes, affect your choice?",
        ),
        (
            "scaling",
            "scale, scaling, horizontal, shard, partition, distributed, throughput",
            "How do the two kinds of store differ when the data or the traffic grows a lot?",
        ),
        (
            "query patterns",
            "join, query, queries, access pattern, relationship, relational, aggregation",
            "How do the queries you expect to run influence the decision?",
        ),
    ),
    _tech(
        "swe-testing",
        "How do you decide what to test in your code, and what kinds of tests do you write?",
        "all",
        ("unit tests", "unit, mock, fixture, function", "Where do unit tests fit in for you?"),
        (
            "integration tests",
            "integration, end to end, end-to-end, e2e, contract, system test, browser",
            "How do you test that the pieces work together, beyond single functions?",
        ),
        (
            "risk",
            "edge case, risk, critical, coverage, regression, boundary, failure",
            "How do you decide which parts of the code deserve the most testing?",
        ),
        (
            "automation",
            "ci, pipeline, automated, automation, continuous integration, pull request, github",
            "When and where do your tests run?",
        ),
    ),
    _tech(
        "swe-code-review",
        "What do you look for when you review someone else's code?",
        "all",
        (
            "correctness",
            "bug, correct, correctness, edge case, logic, error handling, security",
            "How do you check that the change actually does what it should?",
        ),
        (
            "readability",
            "readable, readability, naming, clear, maintainable, simple, complexity, style",
            "How much weight do you give to readability and maintainability?",
        ),
        ("tests", "test, tests, tested, testing, coverage", "What do you expect in terms of tests?"),
        (
            "tone",
            "kind, constructive, suggest, question, tone, respect, nitpick, praise",
            "How do you phrase your comments so that the review goes well for the author?",
        ),
    ),
    _tech(
        "swe-slow-endpoint",
        "An API endpoint has become slow over the last month. How would you find the cause and fix it?",
        "mid senior",
        (
            "measurement",
            "profile, profiler, profiling, measure, metric, latency, p99, percentile, trace",
            "How would you measure where the time is actually spent?",
        ),
        (
            "database",
            "query, queries, index, n+1, database, explain, slow query, table scan",
            "What would you check on the database side?",
        ),
        ("caching", "cache, caching, memoize, redis", "Would caching help here, and what are the risks?"),
        (
            "load",
            "load, traffic, cpu, memory, capacity, growth, data volume, more users",
            "How would you tell whether it is caused by growth in traffic or data rather than a code change?",
        ),
    ),
    _tech(
        "swe-concurrency",
        "Explain the difference between a process and a thread, and when you would use async code instead.",
        "entry mid",
        (
            "memory",
            "memory, share, shared, address space, isolated, isolation, heap",
            "How do processes and threads differ in what memory they share?",
        ),
        (
            "synchronisation",
            "race, lock, mutex, deadlock, synchronization, synchronisation, thread safe, gil",
            "What problems can appear when threads share data, and how do you prevent them?",
        ),
        (
            "io versus cpu",
            "i/o, io bound, io-bound, cpu bound, cpu-bound, blocking, network, await, event loop",
            "Which kinds of work benefit from async code, and which do not?",
        ),
    ),
    _tech(
        "swe-data-structures",
        "How would you choose between a hash map, a list and a tree for storing data in a program? Give me an example.",
        "entry",
        (
            "complexity",
            "big o, o(1), o(n), log n, complexity, constant time, lookup, linear",
            "How fast are lookups and inserts in each of them?",
        ),
        (
            "ordering",
            "order, ordered, sorted, range, sequence, index",
            "What if you need the data in sorted order, or need range queries?",
        ),
        ("memory", "memory, space, overhead", "How do they compare in memory use?"),
    ),
    _tech(
        "swe-deployment",
        "How do you get code safely from your laptop into production?",
        "mid senior",
        (
            "continuous integration",
            "ci, pipeline, build, tests, continuous integration, pull request, review",
            "What checks happen before a change is allowed to deploy?",
        ),
        (
            "rollout",
            "canary, blue green, blue-green, rolling, feature flag, staged, gradual, percentage",
            "How would you roll a risky change out gradually?",
        ),
        (
            "monitoring",
            "monitor, monitoring, alert, metric, dashboard, error rate, slo",
            "How do you know a deploy went well?",
        ),
        ("rollback", "rollback, roll back, revert, undo", "What happens if a deploy goes wrong?"),
    ),
    _tech(
        "swe-microservices",
        "When would you split a monolith into microservices, and what would make you hold back?",
        "senior",
        (
            "teams",
            "team, teams, ownership, conway, organisation, organization, autonomy",
            "How does the way teams are organised affect this decision?",
        ),
        (
            "operational cost",
            "complexity, latency, network, deployment, observability, operational, overhead",
            "What new operational costs come with microservices?",
        ),
        (
            "data consistency",
            "data, consistency, transaction, saga, eventual, distributed",
            "How would you handle data that used to be updated in one transaction?",
        ),
        (
            "boundaries",
            "boundary, boundaries, domain, bounded context, coupling, interface, contract",
            "How would you decide where to draw the service boundaries?",
        ),
    ),
    _tech(
        "swe-resilience",
        "How would you make a service resilient when one of its dependencies is slow or down?",
        "mid senior",
        (
            "timeouts and retries",
            "timeout, retry, retries, backoff, jitter, idempotent",
            "How would you set timeouts and retries without making the problem worse?",
        ),
        (
            "graceful degradation",
            "circuit breaker, fallback, degrade, graceful, bulkhead, default",
            "What should the service do for users while the dependency is failing?",
        ),
        (
            "redundancy",
            "replica, redundancy, redundant, failover, multi region, multi-region, queue",
            "How could redundancy or queuing help here?",
        ),
        (
            "observability",
            "monitor, monitoring, alert, slo, metric, dashboard, tracing",
            "How would you notice the problem before your users do?",
        ),
    ),
    _tech(
        "swe-learning-tech",
        "Tell me about a programming language or framework you learned recently. How did you go about learning it?",
        "entry",
        (
            "resources",
            "documentation, docs, tutorial, course, book, video, official",
            "Which resources did you find most useful?",
        ),
        (
            "practice",
            "project, built, practice, side project, exercise, wrote, app",
            "What did you build with it to practise?",
        ),
        (
            "concepts",
            "concept, fundamental, difference, compare, compared, paradigm, idiom",
            "What was the most surprising difference from what you knew before?",
        ),
    ),
    _tech(
        "swe-web-security",
        "What are some common security mistakes in web applications, and how do you guard against them?",
        "all",
        (
            "injection",
            "sql injection, injection, parameterized, parameterised, prepared statement, sanitize",
            "How do you protect the database from injection attacks?",
        ),
        (
            "browser attacks",
            "xss, cross site, cross-site, csrf, content security policy, escape, escaping",
            "What attacks target the browser side, and how do you prevent them?",
        ),
        (
            "secrets and authentication",
            "password, hashing, bcrypt, secret, token, encryption, https, tls, authentication",
            "How do you handle passwords, tokens and other secrets?",
        ),
        (
            "access control",
            "least privilege, permission, access control, authorization, authorisation, role",
            "How do you make sure users can only do what they are allowed to?",
        ),
    ),
)


# --------------------------------------------------------------------------------------------------------
# Data scientist (also ML engineer, data analyst)

DATA_SCIENTIST_QUESTIONS: tuple[Question, ...] = (
    _tech(
        "ds-overfitting",
        "How do you detect and prevent overfitting in a model?",
        "all",
        (
            "validation",
            "validation, cross validation, cross-validation, hold out, holdout, test set, train",
            "How would you notice that a model is overfitting?",
        ),
        (
            "regularisation",
            "regularization, regularisation, l1, l2, dropout, pruning, simpler model, penalty",
            "Which techniques would you use to constrain the model?",
        ),
        (
            "data",
            "more data, augmentation, augment, feature selection, fewer features, noise",
            "How can the data itself help against overfitting?",
        ),
        (
            "early stopping",
            "early stopping, learning curve, epochs, validation loss",
            "How do you decide when to stop training?",
        ),
    ),
    _tech(
        "ds-imbalanced-metrics",
        "Which evaluation metric would you use for a fraud detection model where only one percent of "
        "transactions are fraudulent, and why?",
        "all",
        (
            "precision and recall",
            "precision, recall, f1, pr curve, auc, roc, average precision",
            "Which metrics tell you how well the model finds the rare fraud cases?",
        ),
        (
            "accuracy pitfall",
            "accuracy, imbalance, imbalanced, baseline, majority class, 99 percent",
            "Why might accuracy be misleading here?",
        ),
        (
            "business cost",
            "cost, false positive, false negative, threshold, business, customer, review queue",
            "How would the cost of missing fraud versus blocking good customers shape your choice?",
        ),
    ),
    _tech(
        "ds-ab-test",
        "How would you design an A/B test to check whether a new recommendation widget increases purchases?",
        "all",
        (
            "hypothesis and metric",
            "hypothesis, metric, conversion, primary, purchase rate, revenue per",
            "What exactly would your hypothesis and your primary metric be?",
        ),
        (
            "randomisation",
            "random, randomize, randomise, control, treatment, assign, split, bucket",
            "How would you assign users to the two groups?",
        ),
        (
            "sample size",
            "sample size, power, significance, p value, p-value, confidence, minimum detectable",
            "How long would you run it, and how would you know the result is not noise?",
        ),
        (
            "pitfalls",
            "novelty, peeking, seasonality, bias, guardrail, spillover, multiple testing",
            "What could make the result misleading even if it looks significant?",
        ),
    ),
    _tech(
        "ds-missing-data",
        "A dataset you have been given has a lot of missing values. How do you handle it?",
        "entry mid",
        (
            "missingness",
            "why, at random, mcar, mnar, mar, pattern, mechanism, source",
            "How would you find out why the values are missing?",
        ),
        (
            "imputation",
            "impute, imputation, mean, median, mode, interpolate, interpolation, knn",
            "Which ways of filling in the missing values would you consider?",
        ),
        ("dropping", "drop, remove, delete, exclude, discard", "When would you simply drop rows or columns?"),
        (
            "impact",
            "bias, distribution, sensitivity, indicator, flag, compare",
            "How would you check that your choice did not distort the analysis?",
        ),
    ),
    _tech(
        "ds-feature-engineering",
        "Tell me how you approach feature engineering for a tabular prediction problem.",
        "mid senior",
        (
            "domain knowledge",
            "domain, business, expert, stakeholder, intuition",
            "How do you use domain knowledge to come up with features?",
        ),
        (
            "transformations",
            "encode, encoding, one hot, one-hot, scaling, normalize, normalise, log, bin",
            "Which transformations do you typically apply to raw columns?",
        ),
        (
            "leakage",
            "leak, leakage, future, target, time split, look-ahead",
            "How do you make sure a feature does not leak information from the future?",
        ),
        (
            "selection",
            "importance, select, selection, correlation, correlated, shap, ablation",
            "How do you decide which features to keep?",
        ),
    ),
    _tech(
        "ds-bias-variance",
        "Explain the bias-variance trade-off as you would to a junior colleague.",
        "entry mid",
        ("bias", "bias, underfit, underfitting, too simple", "What does high bias look like in practice?"),
        (
            "variance",
            "variance, overfit, overfitting, too complex, memorize, memorise",
            "And what does high variance look like?",
        ),
        (
            "balance",
            "balance, sweet spot, regularization, regularisation, cross validation, model complexity",
            "How do you find the right balance between the two?",
        ),
    ),
    _tech(
        "ds-sql-ranking",
        "How would you write a SQL query that finds the top three products by revenue in each region?",
        "entry mid",
        (
            "aggregation",
            "group by, sum, aggregate, aggregation, total",
            "How would you compute revenue per product and region?",
        ),
        (
            "ranking",
            "rank, row_number, row number, window, partition by, dense_rank, dense rank",
            "How would you keep only the top three within each region?",
        ),
        (
            "ties and joins",
            "join, tie, ties, duplicate, null",
            "Which tables would you need to join, and what happens with ties?",
        ),
    ),
    _tech(
        "ds-production-model",
        "What changes when you take a model from a notebook into production?",
        "mid senior",
        (
            "reproducibility",
            "pipeline, reproducible, reproducibility, version, docker, container, mlflow",
            "How do you make training and feature computation reproducible?",
        ),
        (
            "monitoring",
            "monitor, monitoring, drift, degrade, degradation, retrain, retraining",
            "How do you know the model is still good a few months later?",
        ),
        (
            "serving",
            "latency, serving, api, batch, real time, real-time, endpoint, throughput",
            "How would the model be served, in batch or in real time, and why?",
        ),
        (
            "testing",
            "test, tests, testing, validation, shadow, canary, a/b",
            "How would you test the model before it takes real decisions?",
        ),
    ),
    _tech(
        "ds-explain-results",
        "How do you explain the results of a model to a non-technical stakeholder?",
        "all",
        (
            "business framing",
            "business, impact, revenue, decision, outcome, cost, goal",
            "How do you connect the results to the decision the stakeholder has to make?",
        ),
        (
            "visuals",
            "chart, visual, visualization, visualisation, plot, dashboard, story, graph",
            "What would you show them?",
        ),
        (
            "uncertainty",
            "uncertain, uncertainty, confidence, limitation, risk, interval, error",
            "How do you communicate how certain or uncertain the results are?",
        ),
        (
            "plain language",
            "simple, jargon, analogy, plain, non-technical, everyday",
            "How do you avoid getting lost in technical jargon?",
        ),
    ),
    _tech(
        "ds-model-choice",
        "How do you choose between a simple model like logistic regression and a complex one like gradient "
        "boosting or a neural network?",
        "all",
        (
            "interpretability",
            "interpret, interpretable, interpretability, explain, explainable, transparent",
            "How much does being able to explain the model matter to you?",
        ),
        (
            "performance",
            "accuracy, performance, baseline, benchmark, validation score, auc",
            "How would you compare their performance fairly?",
        ),
        (
            "data size",
            "data size, amount of data, sample, samples, dataset, rows, features",
            "How does the amount and kind of data you have change the choice?",
        ),
        (
            "cost",
            "latency, cost, maintain, maintenance, compute, training time, infrastructure",
            "What about the cost of training, serving and maintaining each one?",
        ),
    ),
    _tech(
        "ds-causal-inference",
        "How would you estimate the effect of a marketing campaign when you could not run a randomised experiment?",
        "senior",
        (
            "confounding",
            "confound, confounder, confounding, selection bias, bias, correlation",
            "What could make a naive before-and-after comparison misleading?",
        ),
        (
            "methods",
            "difference in differences, diff in diff, propensity, matching, instrumental, "
            "regression discontinuity, synthetic control",
            "Which quasi-experimental methods would you consider?",
        ),
        (
            "assumptions",
            "assumption, parallel trends, sensitivity, robust, robustness, placebo",
            "How would you check the assumptions behind your estimate?",
        ),
    ),
    _tech(
        "ds-data-quality",
        "How do you make sure the data feeding your analysis or model is trustworthy?",
        "mid senior",
        (
            "validation checks",
            "check, checks, validate, validation, test, expectation, schema, range",
            "What checks would you put on the data itself?",
        ),
        (
            "lineage",
            "source, lineage, pipeline, owner, upstream, provenance",
            "How do you track where the data comes from?",
        ),
        (
            "monitoring",
            "monitor, monitoring, alert, anomaly, anomalies, drift, freshness",
            "How would you find out quickly when something breaks upstream?",
        ),
        (
            "documentation",
            "document, documentation, catalog, catalogue, definition, dictionary",
            "How do you make sure everyone uses the same definitions?",
        ),
    ),
    _tech(
        "ds-p-value",
        "What is a p-value, and what is a common way people misinterpret it?",
        "entry mid",
        (
            "definition",
            "probability, null hypothesis, as extreme, assuming, observed",
            "How would you define it precisely?",
        ),
        (
            "misinterpretation",
            "not the probability, misinterpret, effect size, practical, practically, significant",
            "What does a p-value not tell you?",
        ),
        (
            "threshold",
            "0.05, alpha, threshold, significance level, multiple comparisons, false positive",
            "How do you think about significance thresholds?",
        ),
    ),
    _tech(
        "ds-recommender",
        "How would you build a recommendation system for a catalogue of millions of items?",
        "mid senior",
        (
            "approach",
            "collaborative filtering, content based, content-based, matrix factorization, embedding",
            "Which modelling approach would you start with?",
        ),
        (
            "retrieval and ranking",
            "candidate, retrieval, ranking, nearest neighbour, nearest neighbor, two stage, ann",
            "How would you make it fast enough with millions of items?",
        ),
        (
            "cold start",
            "cold start, new user, new users, new item, new items, popular, popularity",
            "What would you recommend to a brand new user, or for a brand new item?",
        ),
        (
            "evaluation",
            "offline, online, a/b, precision at, ndcg, recall at, click, conversion",
            "How would you evaluate whether the recommendations are good?",
        ),
    ),
)


# --------------------------------------------------------------------------------------------------------
# Product manager (also product owner)

PRODUCT_MANAGER_QUESTIONS: tuple[Question, ...] = (
    _tech(
        "pm-improve-product",
        "Pick a product you use often. What would you improve about it, and how would you decide what to do first?",
        "all",
        (
            "users",
            "user, users, customer, persona, segment, pain point",
            "Who are the users you would be improving it for?",
        ),
        (
            "problem",
            "problem, need, friction, frustrating, annoying, job to be done",
            "What problem exactly would your improvement solve?",
        ),
        (
            "prioritisation",
            "prioritize, prioritise, priority, impact, effort, first",
            "How would you decide between this and other improvements?",
        ),
        (
            "success metric",
            "metric, measure, success, kpi, retention, engagement",
            "How would you know the improvement worked?",
        ),
    ),
    _tech(
        "pm-backlog-prioritisation",
        "How do you prioritise a backlog when engineering, sales and leadership all want different things?",
        "all",
        (
            "framework",
            "rice, moscow, impact, effort, framework, score, kano, cost of delay",
            "Do you use any framework to compare the options?",
        ),
        (
            "strategy",
            "strategy, strategic, goal, okr, vision, objective, mission",
            "How do company goals factor into the decision?",
        ),
        (
            "stakeholders",
            "stakeholder, align, alignment, communicate, transparent, explain, expectation",
            "How do you bring the different groups along with the decision?",
        ),
        ("evidence", "data, evidence, customer, research, feedback, usage", "What evidence would you look at?"),
    ),
    _tech(
        "pm-success-metrics",
        "How would you define success metrics for a new feature that lets users share playlists?",
        "all",
        (
            "primary metric",
            "north star, primary, goal, key metric, main metric",
            "If you had to pick one primary metric, which would it be and why?",
        ),
        (
            "engagement",
            "adoption, engagement, retention, active, usage, shares, listens",
            "How would you measure whether people actually use it and keep using it?",
        ),
        (
            "guardrails",
            "guardrail, counter metric, counter-metric, negative, churn, spam, cannibal",
            "What could go wrong that you would also want to watch?",
        ),
        (
            "measurement",
            "baseline, a/b, experiment, dashboard, track, tracking, instrument",
            "How would you set up the measurement?",
        ),
    ),
    _tech(
        "pm-problem-validation",
        "How do you validate that a problem is worth solving before building anything?",
        "all",
        (
            "user research",
            "interview, interviews, research, survey, talk to, user, customers",
            "How would you learn from users directly?",
        ),
        (
            "data",
            "data, analytics, funnel, usage, support tickets, logs",
            "What existing data could tell you how big the problem is?",
        ),
        (
            "prototype",
            "prototype, mvp, mock, mockup, fake door, landing page, test",
            "How could you test demand cheaply before building the real thing?",
        ),
        (
            "market",
            "market, competitor, competitors, size, opportunity, willingness to pay",
            "How would you judge the size of the opportunity?",
        ),
    ),
    _tech(
        "pm-roadmap",
        "How do you build a product roadmap, and how do you handle it when plans change?",
        "mid senior",
        (
            "outcomes",
            "outcome, outcomes, goal, objective, okr, theme, problem",
            "Is your roadmap organised around features or around outcomes, and why?",
        ),
        (
            "horizons",
            "now next later, quarter, horizon, timeline, long term, short term",
            "How far ahead do you plan, and how precise is each part?",
        ),
        (
            "communication",
            "communicate, communication, stakeholder, share, expectation, update",
            "How do you share the roadmap and its changes with stakeholders?",
        ),
        (
            "adapting",
            "change, adapt, revisit, flexible, review, reprioritize, reprioritise",
            "What makes you change the roadmap, and how often do you revisit it?",
        ),
    ),
    _tech(
        "pm-scope-growth",
        "How do you work with engineers when a feature turns out to be much bigger than expected?",
        "all",
        (
            "scope",
            "scope, cut, mvp, slice, phase, smaller, iteration",
            "How would you reduce the scope while keeping the value?",
        ),
        (
            "trade-offs",
            "trade, prioritize, prioritise, deadline, date, quality",
            "Which trade-offs between date, scope and quality would you consider?",
        ),
        (
            "collaboration",
            "estimate, engineer, engineers, team, together, collaborate, tech lead",
            "How would you involve the engineers in finding a way forward?",
        ),
        (
            "communication",
            "stakeholder, communicate, update, expectation, inform, leadership",
            "Who would you tell, and how?",
        ),
    ),
    _tech(
        "pm-metric-not-moving",
        "A feature you launched is not moving the metric you expected. What do you do?",
        "mid senior",
        (
            "diagnosis",
            "data, funnel, segment, analyze, analyse, analysis, diagnose, adoption",
            "How would you find out where it is falling short?",
        ),
        (
            "qualitative insight",
            "user, users, interview, feedback, qualitative, session recording, survey",
            "How would you learn why users behave the way they do?",
        ),
        ("iteration", "hypothesis, iterate, iteration, experiment, test, tweak", "What would you try next, and how?"),
        (
            "decision",
            "kill, sunset, roll back, pivot, double down, decide, stop",
            "At what point would you decide to stop investing in it?",
        ),
    ),
    _tech(
        "pm-requirements-doc",
        "What goes into a good product requirements document or spec?",
        "entry mid",
        (
            "problem",
            "problem, why, context, background, motivation",
            "How do you describe the problem and why it matters?",
        ),
        ("users", "user, users, persona, user story, customer, use case", "How do you describe who it is for?"),
        (
            "success criteria",
            "metric, success, goal, acceptance criteria, kpi",
            "How does the spec say what success looks like?",
        ),
        (
            "scope",
            "scope, out of scope, non goal, non-goal, requirement, edge case",
            "How do you make clear what is in and out of scope?",
        ),
    ),
    _tech(
        "pm-new-market",
        "How would you decide whether to enter a new market or customer segment?",
        "senior",
        (
            "market size",
            "market size, tam, opportunity, size, revenue potential, growth",
            "How would you estimate the size of the opportunity?",
        ),
        (
            "competition",
            "competitor, competitors, competition, differentiate, differentiation, advantage",
            "How would you assess the competition there?",
        ),
        (
            "capabilities",
            "capability, capabilities, strength, resource, resources, cost, team, sales",
            "What would the company need to be good at to win there?",
        ),
        (
            "validation",
            "pilot, validate, experiment, test, design partner, beta",
            "How would you test the idea before committing fully?",
        ),
    ),
    _tech(
        "pm-pricing",
        "How would you approach pricing for a new subscription tier?",
        "mid senior",
        (
            "value",
            "value, willingness to pay, customer, benefit, value metric",
            "How do you figure out what the tier is worth to customers?",
        ),
        (
            "competition",
            "competitor, competitors, market, benchmark, alternatives",
            "How would competitors' prices influence yours?",
        ),
        (
            "testing",
            "test, experiment, survey, van westendorp, conjoint, interview",
            "How could you test prices before committing to one?",
        ),
        (
            "cannibalisation",
            "cannibalize, cannibalise, cannibalization, tier, upgrade, downgrade, churn",
            "How would the new tier affect your existing tiers?",
        ),
    ),
    _tech(
        "pm-technical-debt",
        "How do you weigh technical debt against new features?",
        "all",
        (
            "impact",
            "velocity, slow, incident, reliability, bug, bugs, impact, outage",
            "How do you make the cost of technical debt visible?",
        ),
        (
            "engineering input",
            "engineer, engineers, team, tech lead, architect",
            "How do you involve engineering in that decision?",
        ),
        (
            "allocation",
            "percent, capacity, budget, allocate, allocation, sprint, time box",
            "Do you reserve time for it, and how much?",
        ),
        (
            "business case",
            "business, customer, cost, risk, revenue",
            "How would you justify the investment to leadership?",
        ),
    ),
    _tech(
        "pm-why-product",
        "Why do you want to work in product management, and which skills from your past will help you?",
        "entry",
        (
            "motivation",
            "passion, enjoy, motivated, motivation, love, excited, interested",
            "What about product work excites you most?",
        ),
        (
            "skills",
            "communication, analytical, analysis, technical, skill, skills, empathy",
            "Which of your skills do you think will matter most?",
        ),
        (
            "evidence",
            "project, example, experience, led, built, launched, internship",
            "Can you point to something you have done that shows those skills?",
        ),
    ),
    _tech(
        "pm-saying-no",
        "How do you say no to a senior stakeholder's feature request?",
        "all",
        (
            "understanding",
            "understand, why, underlying, need, problem, goal",
            "How do you find out what they are really trying to achieve?",
        ),
        (
            "evidence",
            "data, evidence, impact, priority, roadmap, strategy",
            "What would you use to support your answer?",
        ),
        (
            "alternatives",
            "alternative, instead, later, workaround, compromise, smaller version",
            "What could you offer instead of a flat no?",
        ),
        (
            "relationship",
            "respect, relationship, transparent, explain, trust, honest",
            "How do you keep the relationship healthy afterwards?",
        ),
    ),
)


# --------------------------------------------------------------------------------------------------------
# Any other role: role-neutral questions that name the role

GENERIC_QUESTIONS: tuple[Question, ...] = (
    _tech(
        "gen-tools",
        "What tools or methods do you rely on most as {a_role}, and why those?",
        "all",
        (
            "tools",
            "tool, tools, software, system, method, process, framework, checklist",
            "Which specific tools or methods do you mean?",
        ),
        (
            "reasoning",
            "because, efficient, efficiency, accurate, accuracy, save time, reliable, safer",
            "What makes those better than the alternatives for you?",
        ),
        (
            "example",
            "example, for instance, recently, last week, project, case",
            "Can you give me an example of using one of them recently?",
        ),
        tradeoff="What are the limits of those tools or methods, and what do you do when they fall short?",
    ),
    _tech(
        "gen-busy-week",
        "Walk me through how you would plan a busy week as {a_role}.",
        "all",
        (
            "planning",
            "plan, planning, schedule, calendar, list, prioritize, prioritise, priority",
            "How do you decide what goes first?",
        ),
        (
            "interruptions",
            "urgent, interrupt, interruption, unexpected, flexible, emergency, buffer",
            "What happens when something urgent lands in the middle of the week?",
        ),
        (
            "communication",
            "team, communicate, update, colleague, colleagues, manager, handover",
            "How do you keep the people around you informed?",
        ),
        tradeoff="When everything cannot fit, what do you let slip, and how do you decide?",
    ),
    _tech(
        "gen-quality",
        "How do you make sure the quality of your work is high as {a_role}?",
        "all",
        (
            "checks",
            "check, checks, review, double, verify, checklist, proofread",
            "What checks do you do before you consider something finished?",
        ),
        (
            "standards",
            "standard, standards, guideline, regulation, policy, procedure, best practice",
            "Which standards or guidelines do you work to?",
        ),
        (
            "feedback",
            "feedback, ask, colleague, peer, supervisor, second opinion",
            "How do other people help you keep quality high?",
        ),
        (
            "learning from mistakes",
            "mistake, mistakes, error, errors, learn, improve",
            "What do you do when a mistake does slip through?",
        ),
        tradeoff="How do you balance quality against speed when time is short?",
    ),
    _tech(
        "gen-hard-problem",
        "Describe the most complex problem you have had to solve as {a_role}, and how you approached it.",
        "all",
        (
            "analysis",
            "analyze, analyse, analysis, root cause, understand, research, investigate",
            "How did you work out what was really going on?",
        ),
        ("options", "option, options, alternative, approach, consider, considered", "Which options did you consider?"),
        ("outcome", "result, outcome, solved, fixed, improved, resolved", "How did it turn out?"),
        tradeoff="What did you have to give up or risk with the approach you chose?",
    ),
    _tech(
        "gen-keeping-current",
        "How do you keep your skills and knowledge up to date as {a_role}?",
        "all",
        (
            "formal learning",
            "course, courses, certification, certificate, training, degree, class, workshop",
            "Have you done any formal training recently?",
        ),
        (
            "informal learning",
            "read, reading, book, podcast, article, newsletter, conference, journal",
            "What do you read or follow to stay current?",
        ),
        (
            "practice",
            "practice, apply, applied, project, mentor, colleague, colleagues",
            "How do you turn what you learn into practice?",
        ),
        tradeoff="With limited time, how do you choose what is worth learning next?",
    ),
    _tech(
        "gen-risks",
        "What are the biggest risks or common mistakes in the work of {a_role}, and how do you guard against them?",
        "mid senior",
        (
            "risks",
            "risk, risks, mistake, mistakes, error, errors, failure",
            "Which risk worries you most, specifically?",
        ),
        (
            "prevention",
            "prevent, check, process, control, safeguard, protocol, double check",
            "What do you do to prevent it?",
        ),
        (
            "escalation",
            "escalate, report, flag, manager, supervisor, raise",
            "When something does go wrong, who do you tell and how?",
        ),
        tradeoff="Where do safeguards start to slow the work down too much, and how do you strike the balance?",
    ),
    _tech(
        "gen-explain-work",
        "How would you explain an important part of your work as {a_role} to someone outside your field?",
        "entry mid",
        (
            "plain language",
            "simple, plain, analogy, jargon, example, everyday",
            "How would you keep it free of jargon?",
        ),
        (
            "audience",
            "audience, listen, understand, question, questions, check",
            "How would you check that they followed you?",
        ),
        ("purpose", "why, purpose, impact, matters, important", "How would you explain why it matters?"),
        tradeoff="What would you leave out to keep it simple, and what is the risk in leaving it out?",
    ),
    _tech(
        "gen-process-improvement",
        "Tell me about a process in your work as {a_role} that you improved, or would like to improve.",
        "mid senior",
        (
            "problem",
            "problem, slow, inefficient, waste, issue, bottleneck, error",
            "What was wrong with the process as it was?",
        ),
        (
            "change",
            "change, changed, introduce, introduced, automate, redesign, propose, proposed",
            "What exactly did you change, or would you change?",
        ),
        (
            "measurement",
            "time, percent, hours, reduce, reduced, faster, measure, saved",
            "How did you, or would you, measure the improvement?",
        ),
        tradeoff="What resistance or downsides came with the change, and how did you handle them?",
    ),
    _tech(
        "gen-measuring-success",
        "How do you measure whether you are doing a good job as {a_role}?",
        "all",
        ("metrics", "metric, metrics, measure, target, kpi, number, goal", "Which concrete measures do you look at?"),
        ("feedback", "feedback, review, client, customer, patient, manager", "Whose feedback do you rely on?"),
        ("reflection", "reflect, improve, adjust, learn, self-assessment", "How do you act on what you find?"),
        tradeoff="Which parts of good work are hard to measure, and how do you account for them?",
    ),
    _tech(
        "gen-too-much-work",
        "What would you do as {a_role} if you were given far more work than you could finish by a deadline?",
        "entry mid",
        (
            "prioritisation",
            "prioritize, prioritise, priority, urgent, important, triage",
            "How would you decide what gets done first?",
        ),
        (
            "communication",
            "communicate, tell, manager, expectation, expectations, negotiate",
            "Who would you talk to, and what would you say?",
        ),
        ("help", "delegate, help, ask, team, support, colleague", "Would you ask anyone for help, and how?"),
        tradeoff="What would you be willing to cut or postpone, and what would you never compromise on?",
    ),
    _tech(
        "gen-onboarding",
        "How would you bring a new colleague up to speed as a senior {role}?",
        "mid senior",
        (
            "onboarding plan",
            "plan, onboard, onboarding, schedule, checklist, document, documentation",
            "What would their first couple of weeks look like?",
        ),
        ("mentoring", "mentor, pair, shadow, shadowing, coach, buddy", "How would you support them day to day?"),
        (
            "check-ins",
            "check in, check-in, feedback, question, questions, progress",
            "How would you know they are settling in well?",
        ),
        tradeoff="How do you balance the time spent onboarding them with your own workload?",
    ),
    _tech(
        "gen-first-ninety-days",
        "If you joined our team as {a_role}, what would you focus on in your first ninety days?",
        "all",
        (
            "learning",
            "listen, learn, understand, meet, relationship, relationships",
            "How would you learn how the team works?",
        ),
        (
            "early wins",
            "quick win, quick wins, early, small, improve, contribute",
            "What would you aim to deliver early on?",
        ),
        (
            "goals",
            "plan, goal, goals, prioritize, prioritise, measure, milestone",
            "How would you set goals for that period?",
        ),
        tradeoff="What would you deliberately not try to change in those first months, and why?",
    ),
    _tech(
        "gen-judgement-call",
        "Tell me about a situation where doing the job properly as {a_role} required a difficult judgement "
        "call. What did you weigh up?",
        "senior",
        (
            "principles",
            "ethic, ethical, ethics, principle, integrity, honest, confidential, code of conduct",
            "Which principles guided you?",
        ),
        (
            "stakeholders",
            "stakeholder, client, customer, patient, colleague, affected, public",
            "Who would be affected by the decision, and how?",
        ),
        (
            "action",
            "escalate, escalated, decided, raised, reported, spoke, refused",
            "What did you decide to do in the end?",
        ),
        tradeoff="What was the cost of the choice you made, and would you make it again?",
    ),
)


# --------------------------------------------------------------------------------------------------------
# Behavioral questions, shared by every role

BEHAVIORAL_QUESTIONS: tuple[Question, ...] = (
    _star(
        "beh-disagreement",
        "Tell me about a time you disagreed with a colleague. How did you handle it, and what happened?",
        "all",
        (
            "listening",
            "listen, listened, perspective, understand, point of view, empathy",
            "How did you make sure you understood their point of view?",
        ),
        (
            "resolution",
            "agreed, compromise, resolved, decision, data, together",
            "How was the disagreement settled in the end?",
        ),
    ),
    _star(
        "beh-failure",
        "Tell me about a time something you were responsible for failed. What did you do, and what did you learn?",
        "all",
        (
            "accountability",
            "my fault, responsible, responsibility, mistake, accountable, owned",
            "What part of the failure was down to you?",
        ),
        (
            "learning",
            "learn, learned, learnt, lesson, differently, changed, now i",
            "What do you do differently since then?",
        ),
    ),
    _star(
        "beh-leading-without-authority",
        "Describe a time you led a project or a group of people without having formal authority.",
        "all",
        (
            "influence",
            "influence, convince, convinced, persuade, align, buy in, buy-in, motivate",
            "How did you get people to follow your lead without being their manager?",
        ),
        (
            "coordination",
            "plan, organise, organize, meeting, roles, delegate, coordinate",
            "How did you organise the work between people?",
        ),
    ),
    _star(
        "beh-competing-priorities",
        "Tell me about a time you had several urgent tasks at once. How did you decide what to do first?",
        "all",
        (
            "criteria",
            "prioritize, prioritise, priority, impact, urgent, deadline, important",
            "What made one task more important than another?",
        ),
        (
            "communication",
            "communicate, told, informed, expectation, expectations, manager, stakeholder",
            "How did you let the people waiting on the other tasks know?",
        ),
    ),
    _star(
        "beh-critical-feedback",
        "Tell me about a time you received critical feedback. How did you respond?",
        "all",
        (
            "reception",
            "listen, listened, accept, accepted, defensive, thanked, reflect",
            "How did you react in the moment?",
        ),
        (
            "change",
            "changed, improve, improved, adjust, adjusted, since then, now i",
            "What did you change afterwards?",
        ),
    ),
    _star(
        "beh-ambiguity",
        "Describe a situation where the goal or the requirements were unclear. How did you move forward?",
        "all",
        (
            "clarifying",
            "clarify, clarified, asked, question, questions, assumption, assumptions",
            "How did you get clarity, and who did you ask?",
        ),
        (
            "iterating",
            "prototype, draft, iterate, iteration, small step, experiment, checkpoint",
            "How did you make progress before everything was clear?",
        ),
    ),
    _star(
        "beh-tight-deadline",
        "Tell me about a time you had to deliver something under a very tight deadline.",
        "all",
        (
            "scope",
            "scope, cut, prioritize, prioritise, mvp, essential, must have",
            "What did you leave out or simplify to make it in time?",
        ),
        (
            "quality",
            "quality, test, tested, risk, corner, corners, review",
            "How did you protect the quality of the work?",
        ),
    ),
    _star(
        "beh-helping-others-grow",
        "Tell me about a time you helped a colleague grow or learn something new.",
        "mid senior",
        (
            "approach",
            "mentor, mentored, coach, coached, pair, taught, explain, guide",
            "How did you go about helping them?",
        ),
        (
            "growth",
            "grew, improved, confident, confidence, promoted, independent, independently",
            "How did you see that they had grown?",
        ),
    ),
    _star(
        "beh-difficult-stakeholder",
        "Describe a time you had to work with a difficult stakeholder or customer.",
        "all",
        (
            "empathy",
            "understand, listen, listened, need, needs, concern, frustrated, frustration",
            "What was really behind their behaviour, as far as you could tell?",
        ),
        (
            "boundaries",
            "expectation, expectations, clear, agree, agreed, escalate, compromise",
            "How did you set expectations with them?",
        ),
    ),
    _star(
        "beh-beyond-the-brief",
        "Tell me about something you did that went beyond what was asked of you.",
        "entry mid",
        (
            "initiative",
            "noticed, saw, opportunity, problem, initiative, volunteered",
            "What made you decide to take it on?",
        ),
        ("impact", "impact, saved, improved, adopted, helped, used", "What difference did it make?"),
    ),
    _star(
        "beh-adapting-to-change",
        "Describe a time when a big change at work or in your studies forced you to adapt.",
        "entry mid",
        (
            "adaptation",
            "adapt, adapted, learn, learned, adjust, adjusted, flexible",
            "What did you have to learn or change in how you worked?",
        ),
        (
            "attitude",
            "positive, embrace, opportunity, support, helped, stress",
            "How did you feel about the change, and how did you deal with that?",
        ),
    ),
    _star(
        "beh-unpopular-decision",
        "Tell me about a decision you made that was unpopular. How did you bring people along?",
        "mid senior",
        (
            "reasoning",
            "data, reason, reasons, evidence, rationale, because",
            "What convinced you it was the right decision?",
        ),
        (
            "communication",
            "explain, explained, communicate, listen, concern, concerns, buy in, buy-in",
            "How did you explain it to the people who disagreed?",
        ),
    ),
    _star(
        "beh-team-project",
        "Tell me about a team project you are proud of. What was your role in it?",
        "entry mid",
        (
            "own role",
            "my role, responsible, my part, in charge, i built, i designed, i led",
            "What exactly was your part in it?",
        ),
        (
            "collaboration",
            "team, together, collaborate, collaborated, helped, communication",
            "How did the team work together?",
        ),
    ),
    _star(
        "beh-changing-direction",
        "Describe a time you changed the direction of a team or a product. What made you decide it was necessary?",
        "senior",
        (
            "signal",
            "data, signal, noticed, trend, customer, customers, feedback, metrics",
            "What told you the current direction was not working?",
        ),
        (
            "alignment",
            "align, aligned, convince, convinced, leadership, stakeholder, plan",
            "How did you get everyone behind the new direction?",
        ),
    ),
)

TECHNICAL_BANKS: dict[str, tuple[Question, ...]] = {
    SOFTWARE_ENGINEER: SOFTWARE_ENGINEER_QUESTIONS,
    DATA_SCIENTIST: DATA_SCIENTIST_QUESTIONS,
    PRODUCT_MANAGER: PRODUCT_MANAGER_QUESTIONS,
    GENERIC: GENERIC_QUESTIONS,
}


# --------------------------------------------------------------------------------------------------------
# Role families

# Checked in order: "ML product manager" is a product role, "machine learning engineer" a data role.
_FAMILY_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        PRODUCT_MANAGER,
        re.compile(r"\bproduct (manager|owner|management|lead)\b|\bhead of product\b|\bpm\b|\bcpo\b"),
    ),
    (
        DATA_SCIENTIST,
        re.compile(
            r"\bdata scien|\bmachine learning\b|\bml\b|\bmlops\b|\bdata analy|\bdeep learning\b|\bnlp\b"
            r"|\bcomputer vision\b|\bstatistician\b|\b(ai|applied|research) (engineer|scientist)\b"
            r"|\bbusiness intelligence\b|\bbi (analyst|developer)\b|\banalytics\b"
        ),
    ),
    (
        SOFTWARE_ENGINEER,
        re.compile(
            r"\bsoftware\b|\bback[ -]?end\b|\bfront[ -]?end\b|\bfull[ -]?stack\b|\bdev ?ops\b|\bsre\b"
            r"|\bsite reliability\b|\bmobile\b|\bios\b|\bandroid\b|\bdeveloper\b|\bprogrammer\b|\bcoder\b"
            r"|\bweb\b|\b(platform|cloud|infrastructure|data|qa|test|security|systems) engineer\b"
        ),
    ),
)


def role_family(role: str) -> str:
    """The family of a role as typed by the candidate: ``software_engineer``, ``data_scientist``,
    ``product_manager``, or ``generic`` for anything else ("Accountant", "Nurse")."""
    text = " ".join(role.lower().split())
    for family, pattern in _FAMILY_PATTERNS:
        if pattern.search(text):
            return family
    return GENERIC


# --------------------------------------------------------------------------------------------------------
# Plans


def main_question_count(duration_minutes: int) -> int:
    """How many main questions (besides the opener) fit in the planned duration: 10 min → 3, 20 → 5, 30 → 8."""
    return max(MIN_MAIN_QUESTIONS, int((duration_minutes - 1) / MINUTES_PER_QUESTION + 0.5))


def build_plan(context: InterviewContext) -> list[Question]:
    """The questions of one interview, in order: an easy opener, then the main questions.

    Deterministic: the same seed, role, type and level always give the same plan. Questions are filtered by
    level; a mixed interview alternates technical and behavioral questions, starting with a technical one.
    The plan is shorter than the duration asks for only when the bank runs out.
    """
    role = display_role(context.role)
    level = context.experience_level
    rng = random.Random(f"{context.seed}|{role.casefold()}|{context.interview_type}|{context.experience_level}")
    technical = [q for q in TECHNICAL_BANKS[role_family(role)] if level in q.levels]
    behavioral = [q for q in BEHAVIORAL_QUESTIONS if level in q.levels]
    rng.shuffle(technical)
    rng.shuffle(behavioral)

    count = main_question_count(context.duration_minutes)
    if context.interview_type == "technical":
        opener, main = TECHNICAL_OPENER, technical[:count]
    elif context.interview_type == "behavioral":
        opener, main = BACKGROUND_OPENER, behavioral[:count]
    else:
        opener, main = BACKGROUND_OPENER, _alternate(technical, behavioral, count)
    return [render_question(q, role) for q in (opener, *main)]


def _alternate(first: Sequence[Question], second: Sequence[Question], count: int) -> list[Question]:
    """Up to ``count`` questions taken in turn from ``first`` and ``second``; when one side runs out, the
    other continues alone."""
    picked = [q for pair in zip_longest(first, second) for q in pair if q is not None]
    return picked[:count]


def display_role(role: str) -> str:
    """The role as it should be spoken: the candidate's own words, trimmed ("professional" when empty)."""
    return " ".join(role.split()) or "professional"


def _with_article(role: str) -> str:
    first_word = role.split()[0]
    # Acronyms are read letter by letter: "an SRE", "an ML engineer", but "a QA engineer".
    if first_word.isupper() and len(first_word) > 1:
        vowel_sound = first_word[0] in "AEFHILMNORSX"
    else:
        vowel_sound = first_word[0].lower() in "aeiou"
    return ("an " if vowel_sound else "a ") + role


def render_question(question: Question, role: str) -> Question:
    """The question with the role filled into its text and follow-ups."""
    role = display_role(role)
    values = {"role": role, "a_role": _with_article(role)}
    return dataclasses.replace(
        question,
        text=question.text.format(**values),
        follow_ups={reason: text.format(**values) for reason, text in question.follow_ups.items()},
    )


def all_questions() -> Iterator[Question]:
    """Every question of every bank (openers included), with ``{role}`` placeholders left in the texts."""
    yield from OPENERS
    for bank in TECHNICAL_BANKS.values():
        yield from bank
    yield from BEHAVIORAL_QUESTIONS


@cache
def _questions_by_id() -> dict[str, Question]:
    return {q.id: q for q in all_questions()}


def find_question(question_id: str, role: str | None = None) -> Question | None:
    """The question with this id, or None; with ``role``, its texts are rendered for that role."""
    question = _questions_by_id().get(question_id)
    if question is None or role is None:
        return question
    return render_question(question, role)


# --------------------------------------------------------------------------------------------------------
# Keyword matching, shared with the feedback scorer so both read answers the same way


@cache
def _keyword_pattern(keyword: str) -> re.Pattern[str]:
    # Words of a phrase may be joined by spaces or hyphens, or written together ("trade-off", "tradeoff").
    words = [re.escape(word) for word in re.split(r"[\s-]+", keyword.lower()) if word]
    body = r"[\s-]*".join(words)
    # Keywords of five letters or more are stems ("regulariz" or "cache" also match "cached");
    # shorter ones must be whole words, plural allowed ("ci" must not match "city").
    tail = "" if len(keyword) >= 5 else r"(?:s|es)?(?![a-z0-9])"
    return re.compile(r"(?<![a-z0-9])" + body + tail)


#: Words that show an answer weighed a trade-off or an alternative.
TRADEOFF_KEYWORDS: tuple[str, ...] = (
    "trade-off",
    "tradeoff",
    "trade off",
    "instead",
    "alternative",
    "alternatively",
    "downside",
    "drawback",
    "cost",
    "versus",
    "vs",
    "compared",
    "rather than",
    "whereas",
    "on the other hand",
    "it depends",
    "depends on",
    "pros and cons",
    "overhead",
    "expensive",
    "cheaper",
    "at the expense",
    "compromise",
    "risk",
    "limitation",
)


def mentions(text: str, keyword: str) -> bool:
    """Whether ``text`` mentions ``keyword`` (case-insensitive; starts at a word boundary; keywords of five
    characters or more also match longer words that start with them, shorter ones only whole words)."""
    return _keyword_pattern(keyword).search(text.lower()) is not None


def mentions_any(text: str, keywords: Iterable[str]) -> bool:
    """Whether ``text`` mentions at least one of ``keywords``."""
    return any(mentions(text, keyword) for keyword in keywords)


def covered_key_points(question: Question, answer: str) -> list[KeyPoint]:
    """The key points of ``question`` that ``answer`` mentions, in the question's order."""
    return [point for point in question.key_points if mentions_any(answer, point.keywords)]
