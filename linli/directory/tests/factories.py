"""Factories for the directory's models (shared: add yours below, keep the others).

Each is generic in its model, so `XFactory.create(...)` is typed as the model
(`XFactory(...)` works the same at run time but type-checks as the factory).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory

from linli.directory import models
from linli.directory.choices import AttributeLinkType, LinkEntity, ServiceStatus


class OrganizationFactory(factory.django.DjangoModelFactory[models.Organization]):
    class Meta:
        model = models.Organization

    name = factory.Sequence(lambda n: f"邻里社工服务中心{n}")
    description = "为社区居民提供综合服务的社会组织。"
    email = factory.Sequence(lambda n: f"org{n}@example.org")
    website = "https://example.org/"


class ProgramFactory(factory.django.DjangoModelFactory[models.Program]):
    class Meta:
        model = models.Program

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"项目{n}")


class TaxonomyFactory(factory.django.DjangoModelFactory[models.Taxonomy]):
    class Meta:
        model = models.Taxonomy

    name = factory.Sequence(lambda n: f"分类法{n}")
    description = "A test taxonomy"
    uri = factory.Sequence(lambda n: f"https://example.org/taxonomies/{n}")
    version = "1"


class TaxonomyTermFactory(factory.django.DjangoModelFactory[models.TaxonomyTerm]):
    class Meta:
        model = models.TaxonomyTerm

    taxonomy_ref = factory.SubFactory(TaxonomyFactory)
    code = factory.Sequence(lambda n: f"term_{n}")
    name = factory.Sequence(lambda n: f"类别{n}")
    name_en = factory.Sequence(lambda n: f"Category {n}")
    description = factory.LazyAttribute(lambda term: term.name_en)
    language = "zh"


class ServiceFactory(factory.django.DjangoModelFactory[models.Service]):
    class Meta:
        model = models.Service

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"社区服务{n}")
    description = "面向辖区居民的服务。"
    status = ServiceStatus.ACTIVE


class LocationFactory(factory.django.DjangoModelFactory[models.Location]):
    class Meta:
        model = models.Location

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"社区服务站{n}")
    latitude = 30.0
    longitude = 120.0


class ServiceAtLocationFactory(factory.django.DjangoModelFactory[models.ServiceAtLocation]):
    class Meta:
        model = models.ServiceAtLocation

    service = factory.SubFactory(ServiceFactory)
    location = factory.SubFactory(LocationFactory)


class AddressFactory(factory.django.DjangoModelFactory[models.Address]):
    class Meta:
        model = models.Address

    location = factory.SubFactory(LocationFactory)
    address_1 = factory.Sequence(lambda n: f"幸福路{n}号")
    city = "示范市"
    region = "邻里区"
    state_province = "示范省"
    postal_code = "999001"


class ContactFactory(factory.django.DjangoModelFactory[models.Contact]):
    class Meta:
        model = models.Contact

    name = "服务台"
    title = "前台"
    email = "desk@example.org"


class PhoneFactory(factory.django.DjangoModelFactory[models.Phone]):
    class Meta:
        model = models.Phone

    number = factory.Sequence(lambda n: f"0571-8800{n:04d}")
    type = "voice"


class LanguageFactory(factory.django.DjangoModelFactory[models.Language]):
    class Meta:
        model = models.Language

    name = "普通话"
    code = "zh"


class ScheduleFactory(factory.django.DjangoModelFactory[models.Schedule]):
    class Meta:
        model = models.Schedule

    freq = "WEEKLY"
    byday = "MO,TU,WE,TH,FR"
    opens_at = dt.time(8, 30)
    closes_at = dt.time(17, 0)
    valid_from = dt.date(2025, 1, 1)
    description = "工作日开放"


class ServiceAreaFactory(factory.django.DjangoModelFactory[models.ServiceArea]):
    class Meta:
        model = models.ServiceArea

    name = "邻里区"
    extent_type = "text"
    extent = "邻里区全域"


class FundingFactory(factory.django.DjangoModelFactory[models.Funding]):
    class Meta:
        model = models.Funding

    source = "政府购买服务"


class CostOptionFactory(factory.django.DjangoModelFactory[models.CostOption]):
    class Meta:
        model = models.CostOption

    option = "每餐"
    currency = "CNY"
    amount = Decimal("12.50")


class RequiredDocumentFactory(factory.django.DjangoModelFactory[models.RequiredDocument]):
    class Meta:
        model = models.RequiredDocument

    document = "身份证"
    uri = "https://example.org/documents/id"


class AccessibilityFactory(factory.django.DjangoModelFactory[models.Accessibility]):
    class Meta:
        model = models.Accessibility

    location = factory.SubFactory(LocationFactory)
    description = "无障碍坡道"
    details = "ramp"


class OrganizationIdentifierFactory(
    factory.django.DjangoModelFactory[models.OrganizationIdentifier]
):
    class Meta:
        model = models.OrganizationIdentifier

    organization = factory.SubFactory(OrganizationFactory)
    identifier_scheme = "CN-USCC"
    identifier_type = "unified social credit code"
    identifier = "51330100MJ0000000X"


class AttributeFactory(factory.django.DjangoModelFactory[models.Attribute]):
    """A term attached to a record; pass `record` (a Service by default) or link_id/link_entity."""

    class Meta:
        model = models.Attribute
        exclude = ("record",)

    record = factory.SubFactory(ServiceFactory)
    taxonomy_term = factory.SubFactory(TaxonomyTermFactory)
    link_id = factory.LazyAttribute(lambda attribute: attribute.record.pk)
    link_entity = factory.LazyAttribute(
        lambda attribute: {
            models.Service: LinkEntity.SERVICE,
            models.Organization: LinkEntity.ORGANIZATION,
            models.Location: LinkEntity.LOCATION,
            models.ServiceAtLocation: LinkEntity.SERVICE_AT_LOCATION,
        }[type(attribute.record)]
    )
    link_type = AttributeLinkType.CATEGORY
