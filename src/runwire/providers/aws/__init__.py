"""AWS providers: Bedrock chat models, completion models, embeddings, rerank, retrievers,
SageMaker endpoints and S3 Vectors.

Classes are loaded on first use, so importing this package imports neither boto3 nor
the provider modules.
"""

from __future__ import annotations

from runwire._lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "ChatBedrockConverse": "runwire.providers.aws.converse",
    "ChatBedrock": "runwire.providers.aws.bedrock_chat",
    "BedrockLLM": "runwire.providers.aws.bedrock_llm",
    "BedrockEmbeddings": "runwire.providers.aws.embeddings",
    "BedrockRerank": "runwire.providers.aws.rerank",
    "AmazonKnowledgeBasesRetriever": "runwire.providers.aws.knowledge_bases",
    "AmazonKendraRetriever": "runwire.providers.aws.kendra",
    "SagemakerEndpoint": "runwire.providers.aws.sagemaker",
    "AmazonS3Vectors": "runwire.providers.aws.s3vectors",
    "AmazonS3VectorsRetriever": "runwire.providers.aws.s3vectors_retriever",
    "AmazonS3VectorsIngest": "runwire.providers.aws.s3vectors_ingest",
    "JsonContentHandler": "runwire.providers.aws.sagemaker_handlers",
    "LLMContentHandler": "runwire.providers.aws.sagemaker_handlers",
    "InMemorySemanticCache": "runwire.providers.aws.memorydb_cache",
    "InMemoryVectorStore": "runwire.providers.aws.memorydb",
    "InMemoryVectorStoreRetriever": "runwire.providers.aws.memorydb_retriever",
    "InMemoryDBFilter": "runwire.providers.aws.memorydb_filters",
    "InMemoryDBNum": "runwire.providers.aws.memorydb_filters",
    "InMemoryDBTag": "runwire.providers.aws.memorydb_filters",
    "InMemoryDBText": "runwire.providers.aws.memorydb_filters",
    "NeptuneGraph": "runwire.providers.aws.neptune",
    "NeptuneRdfGraph": "runwire.providers.aws.neptune_rdf",
    "NeptuneSparqlQAChain": "runwire.providers.aws.neptune_sparql_qa",
    "create_neptune_sparql_qa_chain": "runwire.providers.aws.neptune_sparql_qa",
    "NeptuneAnalyticsGraph": "runwire.providers.aws.neptune_analytics",
    "NeptuneOpenCypherQAChain": "runwire.providers.aws.neptune_qa",
    "create_neptune_opencypher_qa_chain": "runwire.providers.aws.neptune_qa",
    "AwsClientFields": "runwire.providers.aws.client",
    "build_client": "runwire.providers.aws.client",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)
